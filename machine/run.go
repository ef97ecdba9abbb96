package machine

import (
	"math/bits"

	"golang.org/x/arch/x86/x86asm"
)

// Run executes at most budget instructions and returns why it stopped.
//
// It runs whole blocks (fastblock.go): RIP, the instruction count and the
// budget are updated once per block, and every path that leaves a block
// early (a fault, an exit, a slow-path instruction that jumps, changes TF
// or writes decoded code) first sets them exactly for the instruction it
// stops at. Where a whole block cannot run (the budget ends inside it;
// single-stepping, execute breakpoints or watchpoints are on; the page has
// a software breakpoint), Run executes one plain instruction from the
// page's instruction cache at a time, with no block-local optimization.
func (c *CPU) Run(budget uint64) (ex Exit) {
	c.syncTLB()
	c.fetchPN = ^uint64(0)
	c.setupDebug()
	c.bpHit = false
	c.inExec = 0
	c.dr6hit = 0
	slow := c.watchOn || c.execBPOn || c.rflags&(FlagTF|FlagRF) != 0
	defer func() {
		if r := recover(); r != nil {
			if panicOnBug {
				panic(r)
			}
			// An internal bug must not crash the host: report it as #UD.
			// In the slow path RIP is at the instruction; count the ones
			// its block retired before it.
			if c.inExec > 0 {
				c.Icount += uint64(c.inExec - 1)
			}
			c.inExec = 0
			ex = Exit{Reason: ExitUD}
		}
	}()
	var cur *block // the cached block run last, or nil
	for budget > 0 {
		rip := c.RIP
		var insts []dinst
		var end uint64
		var b *block
		j := 0 // the link of cur to follow and set
		if cur != nil && !slow {
			// Where the block run last went before (fetchPN is never a
			// page with software breakpoints; another page is only taken
			// from the code cache without them, as below).
			if rip != cur.end {
				j = 1
			}
			if l := cur.link[j]; l != nil && l.pc == rip {
				if pn := rip >> 12; pn == c.fetchPN {
					if l.cp == c.fetchCP {
						b = l
					}
				} else if e := &c.codeCache[pn%codeCacheSize]; c.bps == nil && e.pn == pn && e.cp == l.cp {
					c.fetchPN, c.fetchCP = pn, e.cp
					b = l
				}
			}
		}
		if b == nil {
			if pn := rip >> 12; !slow && pn != c.fetchPN && c.codeCache != nil && c.bps == nil {
				// Another decoded page, maybe one met before.
				if e := &c.codeCache[pn%codeCacheSize]; e.pn == pn {
					c.fetchPN, c.fetchCP = pn, e.cp
				}
			}
			if !slow && rip>>12 == c.fetchPN {
				if bx := c.fetchCP.bidx[rip&0xfff]; bx != 0 {
					b = c.fetchCP.blocks[bx-1]
					if cur != nil {
						cur.link[j] = b
					}
				}
			}
		}
		one := slow
		bpPage := false
		if b == nil {
			if c.bps != nil {
				var hit bool
				if hit, bpPage = c.checkBreak(rip); hit {
					return Exit{Reason: ExitDebug}
				}
			}
			if !slow && !bpPage {
				var ok bool
				if b, ok = c.block(rip); !ok {
					return c.pend
				}
			} else {
				one = true
			}
		}
		cur = nil
		if b != nil {
			insts, end = b.insts, b.end
			if b != &c.tmpBlk { // an instruction straddling pages: not cached
				cur = b
			}
		}
		if one || uint64(len(insts)) > budget {
			cur = nil
			// One plain instruction.
			var in *dinst
			if rip>>12 == c.fetchPN {
				if ix := c.fetchCP.idx[rip&0xfff]; ix != 0 {
					in = &c.fetchCP.insts[ix-1]
				}
			}
			if in == nil {
				var ok bool
				if in, ok = c.fetch(rip); !ok {
					return c.pend
				}
			}
			if bpPage {
				c.fetchPN = ^uint64(0) // check every instruction of this page
			}
			c.oneBlk[0] = *in
			insts, end = c.oneBlk[:], rip+uint64(in.len)
		}
		var tf bool
		if slow {
			if c.execBPOn && c.rflags&FlagRF == 0 {
				if hit := c.execBreak(rip); hit != 0 {
					c.DR[6] = c.DR[6]&^0xf | hit
					return Exit{Reason: ExitDebug}
				}
			}
			tf = c.rflags&FlagTF != 0
			c.dr6hit = 0
		}
		pn := c.fetchPN
		nrip := end        // where the block goes on
		done := len(insts) // instructions it retires
	run:
		for i := 0; i < len(insts); i++ {
			in := &insts[i]
			switch in.kind {
			case kNop:
			case kMovRR:
				c.Regs[in.args[0].reg&15] = c.Regs[in.args[1].reg&15] & (^uint64(0) >> (in.sh & 63))
			case kMovOpn:
				// mov d, s and the flag-dead operation on d after it
				// (fastblock.go): the second instruction is skipped.
				d := in.args[0].reg & 15
				v := c.Regs[in.args[1].reg&15] & (^uint64(0) >> (in.sh & 63))
				c.Regs[d] = v // the operation may read d
				i++
				n := &insts[i]
				switch n.kind {
				case kAddRRn:
					v += c.Regs[n.args[1].reg&15]
				case kAddRIn:
					v += n.imm
				case kSubRRn:
					v -= c.Regs[n.args[1].reg&15]
				case kAndRRn:
					v &= c.Regs[n.args[1].reg&15]
				case kAndRIn:
					v &= n.imm
				case kOrRRn:
					v |= c.Regs[n.args[1].reg&15]
				case kOrRIn:
					v |= n.imm
				case kXorRRn:
					v ^= c.Regs[n.args[1].reg&15]
				case kXorRIn:
					v ^= n.imm
				case kShlRIn:
					v <<= n.imm & 63
				case kShrRIn:
					v = (v & (^uint64(0) >> (n.sh & 63))) >> (n.imm & 63)
				case kSarRIn:
					v = uint64(int64(v<<(n.sh&63)) >> (n.sh & 63) >> (n.imm & 63))
				case kImulRRn:
					v *= c.Regs[n.args[1].reg&15]
				}
				c.Regs[d] = v & (^uint64(0) >> (n.sh & 63))
			case kMovRI:
				c.Regs[in.args[0].reg&15] = in.imm
			case kLea:
				a := uint64(in.disp)
				if in.base >= 0 {
					a += c.Regs[in.base&15]
				}
				if in.index >= 0 {
					a += c.Regs[in.index&15] << (in.scale & 3)
				}
				c.Regs[in.args[0].reg&15] = a & (^uint64(0) >> (in.sh & 63))
			case kMovRM64:
				a := c.eaFast(in)
				v, ok := c.rd8(a)
				if !ok {
					if v, ok = c.rd(a, 8); !ok {
						return c.fault(in, i)
					}
				}
				c.Regs[in.args[0].reg&15] = v
			case kMovRM32:
				a := c.eaFast(in)
				v, ok := c.rd4(a)
				if !ok {
					if v, ok = c.rd(a, 4); !ok {
						return c.fault(in, i)
					}
				}
				c.Regs[in.args[0].reg&15] = v
			case kMovMR64:
				a := c.eaFast(in)
				if v := c.Regs[in.args[1].reg&15]; !c.wr8(a, v) {
					if !c.wr(a, 8, v) {
						return c.fault(in, i)
					}
					if c.fetchPN != pn { // it wrote decoded code
						done, nrip = i+1, in.pc+uint64(in.len)
						break run
					}
				}
			case kMovMR32:
				a := c.eaFast(in)
				if v := c.Regs[in.args[1].reg&15]; !c.wr4(a, v) {
					if !c.wr(a, 4, v) {
						return c.fault(in, i)
					}
					if c.fetchPN != pn {
						done, nrip = i+1, in.pc+uint64(in.len)
						break run
					}
				}
			case kMovMI:
				if !c.wr(c.eaFast(in), in.args[0].size, in.imm) {
					return c.fault(in, i)
				}
				if c.fetchPN != pn {
					done, nrip = i+1, in.pc+uint64(in.len)
					break run
				}

			// ALU with flags.
			case kAddRR, kAddRI:
				d := in.args[0].reg & 15
				a, b := c.Regs[d], in.imm
				if in.kind == kAddRR {
					b = c.Regs[in.args[1].reg&15]
				}
				c.Regs[d] = (a + b) & (^uint64(0) >> (in.sh & 63))
				c.fk, c.fsh, c.fa, c.fb = fkAdd, in.sh, a, b
			case kSubRR, kSubRI:
				d := in.args[0].reg & 15
				a, b := c.Regs[d], in.imm
				if in.kind == kSubRR {
					b = c.Regs[in.args[1].reg&15]
				}
				c.Regs[d] = (a - b) & (^uint64(0) >> (in.sh & 63))
				c.fk, c.fsh, c.fa, c.fb = fkSub, in.sh, a, b
			case kCmpRR, kCmpRI:
				a, b := c.Regs[in.args[0].reg&15], in.imm
				if in.kind == kCmpRR {
					b = c.Regs[in.args[1].reg&15]
				}
				c.fk, c.fsh, c.fa, c.fb = fkSub, in.sh, a, b
			case kAndRR, kAndRI:
				d := in.args[0].reg & 15
				b := in.imm
				if in.kind == kAndRR {
					b = c.Regs[in.args[1].reg&15]
				}
				r := c.Regs[d] & b & (^uint64(0) >> (in.sh & 63))
				c.Regs[d] = r
				c.fk, c.fsh, c.fr = fkLogic, in.sh, r
			case kOrRR, kOrRI:
				d := in.args[0].reg & 15
				b := in.imm
				if in.kind == kOrRR {
					b = c.Regs[in.args[1].reg&15]
				}
				r := (c.Regs[d] | b) & (^uint64(0) >> (in.sh & 63))
				c.Regs[d] = r
				c.fk, c.fsh, c.fr = fkLogic, in.sh, r
			case kXorRR, kXorRI:
				d := in.args[0].reg & 15
				b := in.imm
				if in.kind == kXorRR {
					b = c.Regs[in.args[1].reg&15]
				}
				r := (c.Regs[d] ^ b) & (^uint64(0) >> (in.sh & 63))
				c.Regs[d] = r
				c.fk, c.fsh, c.fr = fkLogic, in.sh, r
			case kTestRR, kTestRI:
				b := in.imm
				if in.kind == kTestRR {
					b = c.Regs[in.args[1].reg&15]
				}
				c.fk, c.fsh, c.fr = fkLogic, in.sh, c.Regs[in.args[0].reg&15]&b
			case kShlRI:
				d := in.args[0].reg & 15
				a := c.Regs[d] & (^uint64(0) >> (in.sh & 63))
				r := a << (in.imm & 63) & (^uint64(0) >> (in.sh & 63))
				c.Regs[d] = r
				c.fk, c.fsh, c.fa, c.fb, c.fr = fkShl, in.sh, a, in.imm, r
			case kShrRI:
				d := in.args[0].reg & 15
				a := c.Regs[d] & (^uint64(0) >> (in.sh & 63))
				r := a >> (in.imm & 63)
				c.Regs[d] = r
				c.fk, c.fsh, c.fa, c.fb, c.fr = fkShr, in.sh, a, in.imm, r
			case kSarRI:
				d := in.args[0].reg & 15
				a := c.Regs[d] & (^uint64(0) >> (in.sh & 63))
				r := uint64(int64(a<<(in.sh&63))>>(in.sh&63)>>(in.imm&63)) & (^uint64(0) >> (in.sh & 63))
				c.Regs[d] = r
				c.fk, c.fsh, c.fa, c.fb, c.fr = fkSar, in.sh, a, in.imm, r

			// The same with their flags dead.
			case kAddRRn:
				d := in.args[0].reg & 15
				c.Regs[d] = (c.Regs[d] + c.Regs[in.args[1].reg&15]) & (^uint64(0) >> (in.sh & 63))
			case kAddRIn:
				d := in.args[0].reg & 15
				c.Regs[d] = (c.Regs[d] + in.imm) & (^uint64(0) >> (in.sh & 63))
			case kSubRRn:
				d := in.args[0].reg & 15
				c.Regs[d] = (c.Regs[d] - c.Regs[in.args[1].reg&15]) & (^uint64(0) >> (in.sh & 63))
			case kAndRRn:
				d := in.args[0].reg & 15
				c.Regs[d] = c.Regs[d] & c.Regs[in.args[1].reg&15] & (^uint64(0) >> (in.sh & 63))
			case kAndRIn:
				d := in.args[0].reg & 15
				c.Regs[d] = c.Regs[d] & in.imm & (^uint64(0) >> (in.sh & 63))
			case kOrRRn:
				d := in.args[0].reg & 15
				c.Regs[d] = (c.Regs[d] | c.Regs[in.args[1].reg&15]) & (^uint64(0) >> (in.sh & 63))
			case kOrRIn:
				d := in.args[0].reg & 15
				c.Regs[d] = (c.Regs[d] | in.imm) & (^uint64(0) >> (in.sh & 63))
			case kXorRRn:
				d := in.args[0].reg & 15
				c.Regs[d] = (c.Regs[d] ^ c.Regs[in.args[1].reg&15]) & (^uint64(0) >> (in.sh & 63))
			case kXorRIn:
				d := in.args[0].reg & 15
				c.Regs[d] = (c.Regs[d] ^ in.imm) & (^uint64(0) >> (in.sh & 63))
			case kShlRIn:
				d := in.args[0].reg & 15
				c.Regs[d] = c.Regs[d] << (in.imm & 63) & (^uint64(0) >> (in.sh & 63))
			case kShrRIn:
				d := in.args[0].reg & 15
				c.Regs[d] = (c.Regs[d] & (^uint64(0) >> (in.sh & 63))) >> (in.imm & 63)
			case kSarRIn:
				d := in.args[0].reg & 15
				c.Regs[d] = uint64(int64(c.Regs[d]<<(in.sh&63))>>(in.sh&63)>>(in.imm&63)) & (^uint64(0) >> (in.sh & 63))
			case kRotRn:
				d := in.args[0].reg & 15
				cnt := in.imm
				if in.sub&2 != 0 {
					cnt = c.Regs[RCX]
				}
				if in.sub&1 != 0 {
					cnt = -cnt
				}
				if in.sh == 0 {
					c.Regs[d] = bits.RotateLeft64(c.Regs[d], int(cnt&63))
				} else {
					c.Regs[d] = uint64(bits.RotateLeft32(uint32(c.Regs[d]), int(cnt&31)))
				}
			case kImulRRn:
				d := in.args[0].reg & 15
				c.Regs[d] = c.Regs[d] * c.Regs[in.args[1].reg&15] & (^uint64(0) >> (in.sh & 63))
			case kImulRRIn:
				c.Regs[in.args[0].reg&15] = c.Regs[in.args[1].reg&15] * in.imm & (^uint64(0) >> (in.sh & 63))

			// Fused with the jcc that ends the block.
			case kCmpRRJ, kCmpRIJ, kSubRRJ, kSubRIJ:
				d := in.args[0].reg & 15
				a, b := c.Regs[d], in.imm
				if in.kind == kCmpRRJ || in.kind == kSubRRJ {
					b = c.Regs[in.args[1].reg&15]
				}
				if in.kind >= kSubRRJ {
					c.Regs[d] = (a - b) & (^uint64(0) >> (in.sh & 63))
				}
				c.fk, c.fsh, c.fa, c.fb = fkSub, in.sh, a, b
				t, ok := subCond(in.cc, a<<(in.sh&63), b<<(in.sh&63))
				if !ok {
					t = c.cond(in.cc)
				}
				if t {
					nrip = in.imm2
				}
				break run
			case kTestRRJ, kTestRIJ, kAndRRJ:
				d := in.args[0].reg & 15
				b := in.imm
				if in.kind != kTestRIJ {
					b = c.Regs[in.args[1].reg&15]
				}
				r := c.Regs[d] & b & (^uint64(0) >> (in.sh & 63))
				if in.kind == kAndRRJ {
					c.Regs[d] = r
				}
				c.fk, c.fsh, c.fr = fkLogic, in.sh, r
				t, ok := logicCond(in.cc, r<<(in.sh&63))
				if !ok {
					t = c.cond(in.cc)
				}
				if t {
					nrip = in.imm2
				}
				break run
			case kAddRIJ:
				d := in.args[0].reg & 15
				a := c.Regs[d]
				r := (a + in.imm) & (^uint64(0) >> (in.sh & 63))
				c.Regs[d] = r
				c.fk, c.fsh, c.fa, c.fb = fkAdd, in.sh, a, in.imm
				if c.cond(in.cc) {
					nrip = in.imm2
				}
				break run
			case kIncRJ, kDecRJ:
				d := in.args[0].reg & 15
				a := c.Regs[d]
				cf := c.cf()
				fk, b := uint8(fkInc), uint64(1)
				if in.kind == kDecRJ {
					fk, b = fkDec, ^uint64(0)
				}
				r := (a + b) & (^uint64(0) >> (in.sh & 63))
				c.Regs[d] = r
				c.fk, c.fsh, c.fa, c.fb, c.fr, c.fcf = fk, in.sh, a, 1, r, cf
				var t bool
				switch in.cc {
				case 4:
					t = r == 0
				case 5:
					t = r != 0
				default:
					t = c.cond(in.cc)
				}
				if t {
					nrip = in.imm2
				}
				break run

			case kAluRRJ, kAluRIJ, kAluRMJ:
				d := in.args[0]
				b := in.imm
				switch in.kind {
				case kAluRRJ:
					b = c.Regs[in.args[1].reg&15]
				case kAluRMJ:
					var ok bool
					if b, ok = c.rd(c.eaFast(in), d.size); !ok {
						return c.fault(in, i)
					}
				}
				r, w := c.alu(in.sub, d.size, c.Regs[d.reg&15], b)
				if w {
					c.setReg(d.reg&15, d.size, r)
				}
				if c.cond(in.cc) {
					nrip = in.imm2
				}
				break run
			case kAluMRJ, kAluMIJ:
				if !c.aluMem(in) {
					if c.opAlu(in, in.pc+uint64(in.len)) != stOK {
						return c.fault(in, i)
					}
					if c.fetchPN != pn { // it wrote decoded code: the jcc runs on its own
						done, nrip = i+1, in.pc+uint64(in.len)
						break run
					}
				}
				if c.cond(in.cc) {
					nrip = in.imm2
				}
				break run

			// Control transfer: the last instruction of a block.
			case kJcc:
				if c.cond(in.cc) {
					nrip = in.imm
				}
			case kJmp:
				nrip = in.imm
			case kCall:
				sp := c.Regs[RSP] - 8
				next := in.pc + uint64(in.len)
				if !c.wr8(sp, next) && !c.wr(sp, 8, next) {
					return c.fault(in, i)
				}
				c.Regs[RSP] = sp
				nrip = in.imm
			case kJmpI, kCallI:
				t := c.Regs[in.args[0].reg&15]
				if in.args[0].kind == akMem {
					var ok bool
					if t, ok = c.rd(c.eaFast(in), 8); !ok {
						return c.fault(in, i)
					}
				}
				if !canonical(t) {
					c.pend = Exit{Reason: ExitGP}
					return c.fault(in, i)
				}
				if in.kind == kCallI {
					sp := c.Regs[RSP] - 8
					next := in.pc + uint64(in.len)
					if !c.wr8(sp, next) && !c.wr(sp, 8, next) {
						return c.fault(in, i)
					}
					c.Regs[RSP] = sp
				}
				nrip = t
			case kRet:
				t, ok := c.rd8(c.Regs[RSP])
				if !ok {
					if t, ok = c.rd(c.Regs[RSP], 8); !ok {
						return c.fault(in, i)
					}
				}
				if !canonical(t) {
					c.pend = Exit{Reason: ExitGP}
					return c.fault(in, i)
				}
				c.Regs[RSP] += 8
				nrip = t

			case kPushR:
				sp := c.Regs[RSP] - 8
				v := c.Regs[in.args[0].reg&15]
				if !c.wr8(sp, v) {
					if !c.wr(sp, 8, v) {
						return c.fault(in, i)
					}
					if c.fetchPN != pn {
						c.Regs[RSP] = sp
						done, nrip = i+1, in.pc+uint64(in.len)
						break run
					}
				}
				c.Regs[RSP] = sp
			case kPopR:
				v, ok := c.rd8(c.Regs[RSP])
				if !ok {
					if v, ok = c.rd(c.Regs[RSP], 8); !ok {
						return c.fault(in, i)
					}
				}
				c.Regs[RSP] += 8
				c.Regs[in.args[0].reg&15] = v
			case kAluRR, kAluRI: // adc, sbb; 8- and 16-bit forms
				d := in.args[0]
				b := in.imm
				if in.kind == kAluRR {
					b = c.Regs[in.args[1].reg&15]
				}
				r, w := c.alu(in.sub, d.size, c.Regs[d.reg&15], b)
				if w {
					c.setReg(d.reg&15, d.size, r)
				}
			case kMovRMs:
				d := in.args[0]
				a := c.eaFast(in)
				var v uint64
				ok := false
				if d.size == 1 {
					v, ok = c.rd1(a)
				}
				if !ok {
					if v, ok = c.rd(a, d.size); !ok {
						return c.fault(in, i)
					}
				}
				m := sizeMask[d.size]
				c.Regs[d.reg&15] = c.Regs[d.reg&15]&^m | v&m
			case kMovMRs:
				a := c.eaFast(in)
				v := c.Regs[in.args[1].reg&15]
				if in.args[0].size != 1 || !c.wr1(a, v) {
					if !c.wr(a, in.args[0].size, v) {
						return c.fault(in, i)
					}
					if c.fetchPN != pn {
						done, nrip = i+1, in.pc+uint64(in.len)
						break run
					}
				}
			case kAluRM:
				d := in.args[0]
				b, ok := c.rd(c.eaFast(in), d.size)
				if !ok {
					return c.fault(in, i)
				}
				r, w := c.alu(in.sub, d.size, c.Regs[d.reg&15], b)
				if w {
					c.setReg(d.reg, d.size, r)
				}
			case kAluMR, kAluMI:
				if c.aluMem(in) {
					break
				}
				if c.opAlu(in, in.pc+uint64(in.len)) != stOK {
					return c.fault(in, i)
				}
				if c.fetchPN != pn {
					done, nrip = i+1, in.pc+uint64(in.len)
					break run
				}
			case kIncR, kDecR:
				d := in.args[0]
				a := c.Regs[d.reg&15]
				cf := c.cf()
				var r uint64
				if in.kind == kIncR {
					r = a + 1
					c.fk = fkInc
				} else {
					r = a - 1
					c.fk = fkDec
				}
				c.setReg(d.reg, d.size, r)
				c.fsh, c.fa, c.fb, c.fr, c.fcf = 64-8*d.size, a, 1, r, cf
			case kMovzxRM:
				a := c.eaFast(in)
				var v uint64
				ok := false
				if in.args[1].size == 1 {
					v, ok = c.rd1(a)
				}
				if !ok {
					if v, ok = c.rd(a, in.args[1].size); !ok {
						return c.fault(in, i)
					}
				}
				if in.sub != 0 {
					v = sext(v, in.args[1].size)
				}
				c.setReg(in.args[0].reg, in.args[0].size, v)
			case kMovxRR:
				s := in.args[1]
				v := c.Regs[s.reg&15] & sizeMask[s.size]
				if in.sub != 0 {
					v = sext(v, s.size)
				}
				c.setReg(in.args[0].reg, in.args[0].size, v)
			case kCmovRR:
				d := in.args[0]
				if c.cond(in.cc) {
					c.setReg(d.reg, d.size, c.Regs[in.args[1].reg&15])
				} else if d.size == 4 {
					c.Regs[d.reg&15] &= 0xffffffff
				}
			case kSetccR:
				var v uint64
				if c.cond(in.cc) {
					v = 1
				}
				r := in.args[0].reg & 15
				c.Regs[r] = c.Regs[r]&^0xff | v
			case kShiftRI, kShiftRC:
				c.shiftR(in)
			case kRotR:
				c.rotR(in)
			case kImulRR, kImulRRI:
				d := in.args[0]
				var a, b uint64
				if in.kind == kImulRR {
					a, b = c.Regs[d.reg&15], c.Regs[in.args[1].reg&15]
				} else {
					a, b = c.Regs[in.args[1].reg&15], in.imm
				}
				r, ovf := imul(a, b, d.size)
				c.setReg(d.reg, d.size, r)
				c.fk, c.fsh, c.fr, c.fcf = fkMul, in.sh, r, ovf
			case kMulR:
				hi, lo := bits.Mul64(c.Regs[RAX], c.Regs[in.args[0].reg&15])
				c.Regs[RAX], c.Regs[RDX] = lo, hi
				c.fk, c.fsh, c.fr, c.fcf = fkMul, 0, lo, hi != 0
			case kDivR:
				v := c.Regs[in.args[0].reg&15]
				if in.sh == 0 {
					hi := c.Regs[RDX]
					if v == 0 || hi >= v {
						c.pend = Exit{Reason: ExitDE}
						return c.fault(in, i)
					}
					c.Regs[RAX], c.Regs[RDX] = bits.Div64(hi, c.Regs[RAX], v)
				} else {
					v &= 0xffffffff
					n := c.Regs[RDX]<<32 | c.Regs[RAX]&0xffffffff
					if v == 0 || n/v > 0xffffffff {
						c.pend = Exit{Reason: ExitDE}
						return c.fault(in, i)
					}
					c.Regs[RAX], c.Regs[RDX] = n/v, n%v
				}
			case kNotR:
				d := in.args[0].reg & 15
				c.Regs[d] = ^c.Regs[d] & (^uint64(0) >> (in.sh & 63))
			case kNegR:
				d := in.args[0].reg & 15
				a := c.Regs[d] & (^uint64(0) >> (in.sh & 63))
				r := -a & (^uint64(0) >> (in.sh & 63))
				c.Regs[d] = r
				c.fk, c.fsh, c.fa, c.fb, c.fr = fkSub, in.sh, 0, a, r
			case kBitScan:
				s := in.args[1]
				v := c.Regs[s.reg&15] & (^uint64(0) >> (in.sh & 63))
				if s.kind == akMem {
					var ok bool
					if v, ok = c.rd(c.eaFast(in), s.size); !ok {
						return c.fault(in, i)
					}
				}
				c.bitScan(bitScanOp(in), in.args[0], v)
			case kBtR:
				c.btR(in)
			case kCdq:
				c.cdq(in.sub)
			case kShiftRs:
				c.shiftSmall(in)
			case kCmovRM:
				d := in.args[0]
				v, ok := c.rd(c.eaFast(in), d.size)
				if !ok {
					return c.fault(in, i)
				}
				if c.cond(in.cc) {
					c.Regs[d.reg&15] = v
				} else {
					c.Regs[d.reg&15] &= ^uint64(0) >> (in.sh & 63)
				}
			default:
				if in.kind == kSSE && c.sseFast(in) || in.kind == kIncDecM && c.incDecMem(in) || in.kind == kVEX && c.vexFast(in) {
					break
				}
				// The general executor. It sees RIP at the instruction.
				next := in.pc + uint64(in.len)
				c.RIP = in.pc
				c.inExec = int32(i + 1)
				var st int
				switch x86asm.Op(in.op) {
				case x86asm.MOV:
					st = c.opMov(in, next)
				case x86asm.ADD, x86asm.SUB, x86asm.CMP, x86asm.AND, x86asm.OR, x86asm.XOR, x86asm.TEST, x86asm.ADC, x86asm.SBB:
					st = c.opAlu(in, next)
				default:
					st = c.exec(in, next)
				}
				c.inExec = 0
				switch st {
				case stFault:
					return c.fault(in, i)
				case stExitDone:
					c.Icount += uint64(i + 1)
					return c.pend
				case stFlags:
					// popf may have set TF: trap after the next instruction.
					if c.rflags&FlagTF != 0 {
						slow = true
					}
					done, nrip = i+1, c.RIP
					break run
				}
				// A jump or a write of this page's code leaves the block.
				if c.RIP != next || c.fetchPN != pn {
					done, nrip = i+1, c.RIP
					break run
				}
			}
		}
		c.Icount += uint64(done)
		budget -= uint64(done)
		c.RIP = nrip
		if slow {
			c.rflags &^= FlagRF
			slow = c.watchOn || c.execBPOn || c.rflags&FlagTF != 0
			if tf || c.dr6hit != 0 {
				c.DR[6] = c.DR[6]&^0xf | c.dr6hit
				if tf {
					c.DR[6] |= 1 << 14
				}
				if c.dr6hit != 0 {
					return Exit{Reason: ExitDebug}
				}
				return Exit{Reason: ExitSingleStep}
			}
		}
	}
	return Exit{Reason: ExitBudget}
}

// fault stops Run at instruction in, which did not retire, after the i
// instructions of its block before it.
func (c *CPU) fault(in *dinst, i int) Exit {
	c.RIP = in.pc
	c.Icount += uint64(i)
	return c.pend
}

// subCond evaluates condition code cc after the subtraction a - b of
// operands shifted to the top of 64 bits; ok is false for the parity
// conditions, which need the unshifted result.
func subCond(cc uint8, a, b uint64) (t, ok bool) {
	switch cc {
	case 0:
		return int64((a^b)&(a^(a-b))) < 0, true
	case 1:
		return int64((a^b)&(a^(a-b))) >= 0, true
	case 2:
		return a < b, true
	case 3:
		return a >= b, true
	case 4:
		return a == b, true
	case 5:
		return a != b, true
	case 6:
		return a <= b, true
	case 7:
		return a > b, true
	case 8:
		return int64(a-b) < 0, true
	case 9:
		return int64(a-b) >= 0, true
	case 12:
		return int64(a) < int64(b), true
	case 13:
		return int64(a) >= int64(b), true
	case 14:
		return int64(a) <= int64(b), true
	case 15:
		return int64(a) > int64(b), true
	}
	return false, false
}

// logicCond evaluates condition code cc after a logic operation (CF and OF
// clear) with result r shifted to the top of 64 bits; ok is false for the
// parity conditions.
func logicCond(cc uint8, r uint64) (t, ok bool) {
	switch cc {
	case 0, 2:
		return false, true
	case 1, 3:
		return true, true
	case 4, 6:
		return r == 0, true
	case 5, 7:
		return r != 0, true
	case 8, 12:
		return int64(r) < 0, true
	case 9, 13:
		return int64(r) >= 0, true
	case 14:
		return int64(r) <= 0, true
	case 15:
		return int64(r) > 0, true
	}
	return false, false
}

// shiftR executes kShiftRI (a zero count) and kShiftRC.
func (c *CPU) shiftR(in *dinst) {
	d := in.args[0]
	a := c.Regs[d.reg&15]
	cnt := in.imm & 63
	if in.kind == kShiftRC {
		cnt = c.Regs[RCX] & 63
	}
	if d.size == 4 {
		a = uint64(uint32(a))
		cnt &= 31
	}
	if cnt == 0 {
		c.Regs[d.reg&15] = a
		return
	}
	var r uint64
	switch in.sub {
	case 0:
		r = a << cnt
		c.fk = fkShl
	case 1:
		r = a >> cnt
		c.fk = fkShr
	default:
		r = uint64(int64(a<<(64-8*d.size))>>(64-8*d.size)>>cnt) & sizeMask[d.size]
		c.fk = fkSar
	}
	if d.size == 4 {
		r = uint64(uint32(r))
	}
	c.Regs[d.reg&15] = r
	c.fsh, c.fa, c.fb, c.fr = 64-8*d.size, a, cnt, r
}

// rotR executes kRotR: rol/ror of a 32- or 64-bit register, setting CF
// and OF.
func (c *CPU) rotR(in *dinst) {
	d := in.args[0]
	cnt := in.imm
	if in.sub&2 != 0 {
		cnt = c.Regs[RCX]
	}
	a := c.Regs[d.reg&15]
	var r uint64
	var cf, of bool
	if d.size == 8 {
		cnt &= 63
		if cnt == 0 {
			return
		}
		if in.sub&1 == 0 {
			r = bits.RotateLeft64(a, int(cnt))
			cf = r&1 != 0
			of = r>>63 != 0 != cf
		} else {
			r = bits.RotateLeft64(a, -int(cnt))
			cf = r>>63 != 0
			of = cf != (r>>62&1 != 0)
		}
	} else {
		cnt &= 31
		x := uint32(a)
		if cnt == 0 {
			c.Regs[d.reg&15] = uint64(x)
			return
		}
		var y uint32
		if in.sub&1 == 0 {
			y = bits.RotateLeft32(x, int(cnt))
			cf = y&1 != 0
			of = y>>31 != 0 != cf
		} else {
			y = bits.RotateLeft32(x, -int(cnt))
			cf = y>>31 != 0
			of = cf != (y>>30&1 != 0)
		}
		r = uint64(y)
	}
	c.Regs[d.reg&15] = r
	f := c.Flags() &^ (FlagCF | FlagOF)
	if cf {
		f |= FlagCF
	}
	if of {
		f |= FlagOF
	}
	c.rflags = f
}
