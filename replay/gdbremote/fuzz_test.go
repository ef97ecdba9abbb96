package gdbremote

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzPacket feeds arbitrary bytes to the packet reader: no panic, and a
// packet that parses re-frames to bytes that parse to the same packet.
func FuzzPacket(f *testing.F) {
	for _, s := range []string{
		"$qSupported:multiprocess+;swbreak+#c9", "+$g#67", "$m401000,8#00", "\x03",
		"$Z0,40116e,1#00", "$vCont;s:p1.186a0#00", "$}]}}#00", "$a*\x24#00", "$#00", "$x*", "-$?#3f",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		for {
			p, err := ReadPacket(r)
			if errors.Is(err, ErrPacket) {
				continue
			}
			if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
				return
			}
			if err != nil {
				t.Fatalf("ReadPacket: unexpected error %v", err)
			}
			if len(p) == 1 && p[0] == 0x03 {
				continue
			}
			var buf bytes.Buffer
			if err := WritePacket(&buf, p); err != nil {
				t.Fatal(err)
			}
			q, err := ReadPacket(bufio.NewReader(&buf))
			if err != nil || !bytes.Equal(p, q) {
				t.Fatalf("round trip of %q = %q, %v", p, q, err)
			}
		}
	})
}

// FuzzParse checks the argument parsers on arbitrary text: no panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"401000,8", "p1.-1", "-1", ",", "ffffffffffffffff,ffffffff", "p.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parseAddrLen(s)
		parseTid(s)
		Unescape([]byte(s))
	})
}
