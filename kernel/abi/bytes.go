package abi

import "encoding/binary"

var le = binary.LittleEndian

func putU16(b []byte, v uint16) { le.PutUint16(b, v) }
func putU32(b []byte, v uint32) { le.PutUint32(b, v) }
func putU64(b []byte, v uint64) { le.PutUint64(b, v) }
func getU16(b []byte) uint16    { return le.Uint16(b) }
func getU32(b []byte) uint32    { return le.Uint32(b) }
func getU64(b []byte) uint64    { return le.Uint64(b) }

// putCString writes s into the fixed-size field b, NUL-terminated and
// truncated to len(b)-1 bytes; the rest of b is zeroed.
func putCString(b []byte, s string) {
	n := copy(b[:max(len(b)-1, 0)], s)
	clear(b[n:])
}

// getCString returns the bytes of b up to the first NUL.
func getCString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
