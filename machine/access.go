package machine

// Guest memory access from the executor: a direct-mapped software TLB for
// the fast path, and a slow path that checks protections, breaks
// copy-on-write, invalidates decoded code and checks data breakpoints.

// flushTLB drops every cached translation: the slots logged since the last
// flush (or all of them if the log overflowed), the current code page and
// the code page cache.
func (c *CPU) flushTLB() {
	if c.tlbLogN > len(c.tlbLog) {
		for i := range c.rtlb {
			c.rtlb[i] = tlbEntry{pn: ^uint64(0)}
			c.wtlb[i] = tlbEntry{pn: ^uint64(0)}
		}
	} else {
		for _, i := range c.tlbLog[:c.tlbLogN] {
			c.rtlb[i] = tlbEntry{pn: ^uint64(0)}
			c.wtlb[i] = tlbEntry{pn: ^uint64(0)}
		}
	}
	c.tlbLogN = 0
	if c.codeCache != nil {
		for i := range c.codeCache {
			c.codeCache[i] = codeEntry{pn: ^uint64(0)}
		}
	}
	c.tlbMem = c.Mem
	c.tlbGen = c.Mem.gen
	c.invSeq = c.Mem.invSeq
	c.fetchPN = ^uint64(0)
}

// fillR and fillW cache the translation of page pn to buf.
func (c *CPU) fillR(pn uint64, buf *pageBuf) {
	c.rtlb[c.fillSlot(pn)] = tlbEntry{pn: pn, buf: buf}
}

func (c *CPU) fillW(pn uint64, buf *pageBuf) {
	c.wtlb[c.fillSlot(pn)] = tlbEntry{pn: pn, buf: buf}
}

// fillSlot returns the TLB slot of page pn for a fill, after allocating or
// growing the TLBs if it is time, and logs the fill.
func (c *CPU) fillSlot(pn uint64) uint64 {
	c.tlbFills++
	if c.tlbFills > c.tlbGrowAt {
		c.growTLB()
	}
	i := pn & c.tlbMask
	if c.tlbLogN < len(c.tlbLog) {
		c.tlbLog[c.tlbLogN] = uint16(i)
	}
	if c.tlbLogN <= len(c.tlbLog) {
		c.tlbLogN++
	}
	return i
}

// growTLB replaces the TLBs by larger empty ones: tlbSmall entries in place
// of noTLB, then tlbLarge.
func (c *CPU) growTLB() {
	n, next := tlbSmall, uint64(tlbGrowFills)
	if c.tlbMask != 0 {
		n, next = tlbLarge, ^uint64(0)
	}
	c.rtlb, c.wtlb = make([]tlbEntry, n), make([]tlbEntry, n)
	for i := range c.rtlb {
		c.rtlb[i] = tlbEntry{pn: ^uint64(0)}
		c.wtlb[i] = tlbEntry{pn: ^uint64(0)}
	}
	c.tlbMask = uint64(n - 1)
	c.tlbLog, c.tlbLogN = make([]uint16, n/8), 0
	c.tlbGrowAt = next
}

// dropPage drops this CPU's cached translations of page pn, data and code.
func (c *CPU) dropPage(pn uint64) {
	i := pn & c.tlbMask
	if c.rtlb[i].pn == pn {
		c.rtlb[i] = tlbEntry{pn: ^uint64(0)}
	}
	if c.wtlb[i].pn == pn {
		c.wtlb[i] = tlbEntry{pn: ^uint64(0)}
	}
	if c.fetchPN == pn {
		c.fetchPN = ^uint64(0)
	}
	if c.codeCache != nil && c.codeCache[pn%codeCacheSize].pn == pn {
		c.codeCache[pn%codeCacheSize] = codeEntry{pn: ^uint64(0)}
	}
}

// syncTLB brings the TLB up to date with the memory: it is flushed if the
// memory's gen moved (or the CPU is too far behind the page invalidation
// log), else only the pages logged since the last sync are dropped (pages
// materialized, copied on write or collected by CollectDelta: between two
// stops, the only changes).
func (c *CPU) syncTLB() {
	m := c.Mem
	if c.tlbGen != m.gen || c.invSeq < m.invBase || c.tlbMem != m {
		c.flushTLB()
		return
	}
	for ; c.invSeq < m.invSeq; c.invSeq++ {
		c.dropPage(m.inv[c.invSeq-m.invBase])
	}
}

// syncPage brings this CPU's caches up to date after it changed page pn
// itself (materialized it, copied it on write, dropped or created its
// decoded code), moving Memory.gen from before: if nothing else changed
// the memory since this CPU last synced, only the entries of pn are
// dropped; otherwise everything is flushed.
func (c *CPU) syncPage(before, pn uint64) {
	m := c.Mem
	if m.gen != before || c.tlbGen != m.gen {
		if c.tlbGen != before {
			c.flushTLB()
			return
		}
		c.tlbGen = m.gen
		c.dropPage(pn)
	}
	c.syncTLB()
}

var sizeMask = [256]uint64{0, 0xff, 0xffff, 0, 0xffffffff, 0, 0, 0, ^uint64(0)}

func (c *CPU) pfault(addr uint64, acc Access) bool {
	if !canonical(addr) {
		c.pend = Exit{Reason: ExitGP}
		return false
	}
	c.pend = Exit{Reason: ExitPageFault, Addr: addr, Access: acc}
	return false
}

// rd8 and wr8 are the inlinable 8-byte TLB hits of rd and wr; on a miss
// they report false and the caller takes the general path.
func (c *CPU) rd8(addr uint64) (uint64, bool) {
	e := &c.rtlb[(addr>>12)&c.tlbMask]
	off := addr & 0xfff
	if e.pn != addr>>12 || off > PageSize-8 {
		return 0, false
	}
	return le.Uint64(e.buf.b[off:]), true
}

func (c *CPU) wr8(addr, v uint64) bool {
	e := &c.wtlb[(addr>>12)&c.tlbMask]
	off := addr & 0xfff
	if e.pn != addr>>12 || off > PageSize-8 {
		return false
	}
	le.PutUint64(e.buf.b[off:], v)
	return true
}

// rd4 and wr4 are the same for 4 bytes.
func (c *CPU) rd4(addr uint64) (uint64, bool) {
	e := &c.rtlb[(addr>>12)&c.tlbMask]
	off := addr & 0xfff
	if e.pn != addr>>12 || off > PageSize-4 {
		return 0, false
	}
	return uint64(le.Uint32(e.buf.b[off:])), true
}

func (c *CPU) wr4(addr, v uint64) bool {
	e := &c.wtlb[(addr>>12)&c.tlbMask]
	off := addr & 0xfff
	if e.pn != addr>>12 || off > PageSize-4 {
		return false
	}
	le.PutUint32(e.buf.b[off:], uint32(v))
	return true
}

// rd1 and wr1 are the same for a byte (movzx, mov r8/m8 in byte loops).
func (c *CPU) rd1(addr uint64) (uint64, bool) {
	e := &c.rtlb[(addr>>12)&c.tlbMask]
	if e.pn != addr>>12 {
		return 0, false
	}
	return uint64(e.buf.b[addr&0xfff]), true
}

func (c *CPU) wr1(addr, v uint64) bool {
	e := &c.wtlb[(addr>>12)&c.tlbMask]
	if e.pn != addr>>12 {
		return false
	}
	e.buf.b[addr&0xfff] = byte(v)
	return true
}

// aluMem executes kAluMR or kAluMI (or their fused kinds) if its memory operand hits in the read
// TLB and, unless the operation only reads it (cmp, test), in the write
// TLB, reporting whether it did: then it cannot fault, and it wrote no
// decoded code (a page with decoded code is never in the write TLB).
func (c *CPU) aluMem(in *dinst) bool {
	a := c.eaFast(in)
	size := in.args[0].size
	pn, off := a>>12, a&0xfff
	e := &c.rtlb[pn&c.tlbMask]
	if e.pn != pn || off > PageSize-uint64(size) {
		return false
	}
	buf := e.buf
	write := in.sub != aluCmp && in.sub != aluTest
	if write {
		w := &c.wtlb[pn&c.tlbMask]
		if w.pn != pn {
			return false
		}
		buf = w.buf
	}
	b := buf.b[off:]
	v := loadLE(b, size)
	x := in.imm
	if in.args[1].kind == akReg {
		x = c.Regs[in.args[1].reg&15]
	}
	r, _ := c.alu(in.sub, size, v, x)
	if write {
		storeLE(b, size, r)
	}
	return true
}

// incDecMem executes kIncDecM if its operand hits in both TLBs, reporting
// whether it did (then, as for aluMem, it cannot fault or write code).
func (c *CPU) incDecMem(in *dinst) bool {
	a := c.eaFast(in)
	size := in.args[0].size
	pn, off := a>>12, a&0xfff
	if c.rtlb[pn&c.tlbMask].pn != pn || off > PageSize-uint64(size) {
		return false
	}
	e := &c.wtlb[pn&c.tlbMask]
	if e.pn != pn {
		return false
	}
	b := e.buf.b[off:]
	v := loadLE(b, size)
	r, fk := v+1, fkInc
	if in.sub != 0 {
		r, fk = v-1, fkDec
	}
	storeLE(b, size, r)
	cf := c.cf()
	c.fk, c.fsh, c.fa, c.fb, c.fr, c.fcf = fk, 64-8*size, v, 1, r, cf
	return true
}

// loadLE reads a little-endian value of size (1, 2, 4 or 8) bytes from b.
func loadLE(b []byte, size uint8) uint64 {
	switch size {
	case 8:
		return le.Uint64(b)
	case 4:
		return uint64(le.Uint32(b))
	case 2:
		return uint64(le.Uint16(b))
	}
	return uint64(b[0])
}

// storeLE writes the low size (1, 2, 4 or 8) bytes of v to b, little-endian.
func storeLE(b []byte, size uint8, v uint64) {
	switch size {
	case 8:
		le.PutUint64(b, v)
	case 4:
		le.PutUint32(b, uint32(v))
	case 2:
		le.PutUint16(b, uint16(v))
	default:
		b[0] = byte(v)
	}
}

// rd loads size (1, 2, 4 or 8) bytes at addr.
func (c *CPU) rd(addr uint64, size uint8) (uint64, bool) {
	pn := addr >> 12
	off := addr & 0xfff
	e := &c.rtlb[pn&c.tlbMask]
	if e.pn == pn && off+uint64(size) <= PageSize {
		b := e.buf.b[off:]
		return loadLE(b, size), true
	}
	return c.rdMiss(addr, size)
}

// rdMiss is rd on a TLB miss.
func (c *CPU) rdMiss(addr uint64, size uint8) (uint64, bool) {
	if off := addr & 0xfff; off+uint64(size) <= PageSize && !c.watchOn {
		m := c.Mem
		if c.tlbGen != m.gen {
			c.flushTLB()
		}
		pn := addr >> 12
		p, prot, mapped := m.lookup(pn)
		if !mapped || prot&ProtRead == 0 || !canonical(addr) {
			return 0, c.pfault(addr, AccessRead)
		}
		buf := zeroBuf
		if p != nil {
			buf = p.buf
		}
		c.fillR(pn, buf)
		b := buf.b[off:]
		return loadLE(b, size), true
	}
	var buf [8]byte
	if !c.rdSlow(addr, buf[:size]) {
		return 0, false
	}
	return le.Uint64(buf[:]), true
}

// wr stores the low size (1, 2, 4 or 8) bytes of v at addr.
func (c *CPU) wr(addr uint64, size uint8, v uint64) bool {
	pn := addr >> 12
	off := addr & 0xfff
	e := &c.wtlb[pn&c.tlbMask]
	if e.pn == pn && off+uint64(size) <= PageSize {
		b := e.buf.b[off:]
		storeLE(b, size, v)
		return true
	}
	var buf [8]byte
	le.PutUint64(buf[:], v)
	return c.wrSlow(addr, buf[:size])
}

// rdBytes loads len(b) bytes at addr.
func (c *CPU) rdBytes(addr uint64, b []byte) bool {
	pn := addr >> 12
	off := addr & 0xfff
	e := &c.rtlb[pn&c.tlbMask]
	if e.pn == pn && off+uint64(len(b)) <= PageSize {
		copy(b, e.buf.b[off:])
		return true
	}
	return c.rdSlow(addr, b)
}

// wrBytes stores b at addr.
func (c *CPU) wrBytes(addr uint64, b []byte) bool {
	pn := addr >> 12
	off := addr & 0xfff
	e := &c.wtlb[pn&c.tlbMask]
	if e.pn == pn && off+uint64(len(b)) <= PageSize {
		copy(e.buf.b[off:], b)
		return true
	}
	return c.wrSlow(addr, b)
}

func (c *CPU) rdSlow(addr uint64, b []byte) bool {
	m := c.Mem
	if c.tlbGen != m.gen {
		c.flushTLB()
	}
	if off := addr & 0xfff; off+uint64(len(b)) <= PageSize && !c.watchOn {
		// Within one page: a single page-table lookup.
		pn := addr >> 12
		p, prot, mapped := m.lookup(pn)
		if !mapped || prot&ProtRead == 0 || !canonical(addr) {
			return c.pfault(addr, AccessRead)
		}
		buf := zeroBuf
		if p != nil {
			buf = p.buf
		}
		copy(b, buf.b[off:])
		c.fillR(pn, buf)
		return true
	}
	end := addr + uint64(len(b))
	for a := addr; a < end || a == addr; {
		_, prot, mapped := m.lookup(a >> 12)
		if !mapped || prot&ProtRead == 0 || !canonical(a) {
			return c.pfault(a, AccessRead)
		}
		a = (a | 0xfff) + 1
		if a == 0 {
			break
		}
	}
	if c.watchOn {
		c.watch(addr, uint64(len(b)), false)
	}
	for i := 0; i < len(b); {
		a := addr + uint64(i)
		p, _, _ := m.lookup(a >> 12)
		buf := zeroBuf
		if p != nil {
			buf = p.buf
		}
		off := a & 0xfff
		n := copy(b[i:], buf.b[off:])
		i += n
		if !c.watchOn {
			c.fillR(a>>12, buf)
		}
	}
	return true
}

func (c *CPU) wrSlow(addr uint64, b []byte) bool {
	m := c.Mem
	if c.tlbGen != m.gen {
		c.flushTLB()
	}
	if off := addr & 0xfff; off+uint64(len(b)) <= PageSize && !c.watchOn {
		pn := addr >> 12
		_, prot, mapped := m.lookup(pn)
		if !mapped || prot&ProtWrite == 0 || !canonical(addr) {
			return c.pfault(addr, AccessWrite)
		}
		before := m.gen
		p := m.writable(pn, prot)
		c.syncPage(before, pn)
		copy(p.buf.b[off:], b)
		c.fillW(pn, p.buf)
		if prot&ProtRead != 0 {
			c.fillR(pn, p.buf)
		}
		return true
	}
	end := addr + uint64(len(b))
	for a := addr; a < end || a == addr; {
		_, prot, mapped := m.lookup(a >> 12)
		if !mapped || prot&ProtWrite == 0 || !canonical(a) {
			return c.pfault(a, AccessWrite)
		}
		a = (a | 0xfff) + 1
		if a == 0 {
			break
		}
	}
	if c.watchOn {
		c.watch(addr, uint64(len(b)), true)
	}
	for i := 0; i < len(b); {
		a := addr + uint64(i)
		_, prot, _ := m.lookup(a >> 12)
		before := m.gen
		p := m.writable(a>>12, prot)
		c.syncPage(before, a>>12)
		off := a & 0xfff
		n := copy(p.buf.b[off:], b[i:])
		i += n
		if !c.watchOn {
			c.fillW(a>>12, p.buf)
			if prot&ProtRead != 0 {
				c.fillR(a>>12, p.buf)
			}
		}
	}
	return true
}

// probeW checks that [addr, addr+n) is writable without writing it.
func (c *CPU) probeW(addr, n uint64) bool {
	m := c.Mem
	end := addr + n
	for a := addr; a < end || a == addr; {
		_, prot, mapped := m.lookup(a >> 12)
		if !mapped || prot&ProtWrite == 0 || !canonical(a) {
			return c.pfault(a, AccessWrite)
		}
		a = (a | 0xfff) + 1
		if a == 0 {
			break
		}
	}
	return true
}

// watch records data breakpoint hits of an access in c.dr6hit.
func (c *CPU) watch(addr, n uint64, write bool) {
	dr7 := c.DR[7]
	for i := 0; i < 4; i++ {
		if dr7>>(2*i)&3 == 0 {
			continue
		}
		rw := dr7 >> (16 + 4*i) & 3
		if rw == 0 || rw == 2 || (rw == 1 && !write) {
			continue
		}
		l := [4]uint64{1, 2, 8, 4}[dr7>>(18+4*i)&3]
		start := c.DR[i] &^ (l - 1)
		if addr < start+l && start < addr+n {
			c.dr6hit |= 1 << i
		}
	}
}

// setupDebug derives the debug fast-path switches from DR7.
func (c *CPU) setupDebug() {
	dr7 := c.DR[7]
	c.watchOn, c.execBPOn = false, false
	for i := 0; i < 4; i++ {
		if dr7>>(2*i)&3 == 0 {
			continue
		}
		if dr7>>(16+4*i)&3 == 0 {
			c.execBPOn = true
		} else {
			c.watchOn = true
		}
	}
	if c.watchOn {
		c.flushTLB()
	}
}

// execBreak reports execute breakpoints matching rip, as DR6 bits.
func (c *CPU) execBreak(rip uint64) uint64 {
	dr7 := c.DR[7]
	var hit uint64
	for i := 0; i < 4; i++ {
		if dr7>>(2*i)&3 != 0 && dr7>>(16+4*i)&3 == 0 && c.DR[i] == rip {
			hit |= 1 << i
		}
	}
	return hit
}
