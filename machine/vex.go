package machine

// VEX-encoded instructions (AVX, AVX2, BMI1, BMI2, FMA): decoding and
// execution. The machine does not advertise them in CPUID until they are
// implemented and proven against the host CPU; until then every VEX
// encoding is #UD.

// Internal ops of VEX-encoded instructions occupy [opVEXFirst, opVEXLast);
// exec hands them to execVEX.
const (
	opVEXFirst = 0x7e00
	opVEXLast  = 0x7f00
)

// avxState is the architectural state AVX adds to SSE's: the upper halves
// of YMM0-15.
type avxState struct {
	ymmh [16]vec
}

// decodeVEX decodes a VEX-encoded instruction; b starts at its prefixes,
// p describes them.
func decodeVEX(b []byte, p prefixes, d *dinst) decodeErr {
	_, _, _ = b, p, d
	return decUD
}

// execVEX executes a decoded VEX instruction.
func (c *CPU) execVEX(in *dinst, next uint64) int {
	_, _ = in, next
	return c.ud()
}
