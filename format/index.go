package format

// kindSlots is the number of per-kind counters kept in the index: one per
// kind of this version, slot 0 counting kinds it does not know.
const kindSlots = int(KindSyscalls) + 1

func kindSlot(k Kind) int {
	if int(k) < kindSlots {
		return int(k)
	}
	return 0
}

type chunkInfo struct {
	off         uint64
	stored, raw uint32
	firstSeq    uint64
	firstIcount uint64
	maxIcount   uint64
	count       uint32
}

type blobInfo struct {
	off         uint64
	stored, raw uint32
}

// Checkpoint is an entry of the index's checkpoint list (reserved: this
// version writes none and reads what is there).
type Checkpoint struct {
	Seq    uint64 // event the checkpoint is taken before
	Icount uint64
	Offset uint64 // file offset of the checkpoint's frame
}

// index is the payload of the index frame.
type index struct {
	chunks      []chunkInfo
	blobs       []blobInfo
	kinds       []uint64
	checkpoints []Checkpoint
	events      uint64
}

func (ix *index) encode() []byte {
	var e enc
	e.uvarint(uint64(len(ix.chunks)))
	for _, c := range ix.chunks {
		e.uvarint(c.off)
		e.uvarint(uint64(c.stored))
		e.uvarint(uint64(c.raw))
		e.uvarint(c.firstSeq)
		e.uvarint(c.firstIcount)
		e.uvarint(c.maxIcount)
		e.uvarint(uint64(c.count))
	}
	e.uvarint(uint64(len(ix.blobs)))
	for _, b := range ix.blobs {
		e.uvarint(b.off)
		e.uvarint(uint64(b.stored))
		e.uvarint(uint64(b.raw))
	}
	e.uvarint(uint64(len(ix.kinds)))
	for _, k := range ix.kinds {
		e.uvarint(k)
	}
	e.uvarint(uint64(len(ix.checkpoints)))
	for _, c := range ix.checkpoints {
		var ce enc
		ce.uvarint(c.Seq)
		ce.uvarint(c.Icount)
		ce.uvarint(c.Offset)
		e.uvarint(uint64(len(ce.b)))
		e.b = append(e.b, ce.b...)
	}
	e.uvarint(ix.events)
	return e.b
}

func (ix *index) decode(b []byte) string {
	d := dec{b: b}
	n := d.uvarint()
	if n > uint64(d.left()) {
		return "chunk count beyond end of index"
	}
	ix.chunks = make([]chunkInfo, n)
	for i := range ix.chunks {
		c := &ix.chunks[i]
		c.off = d.uvarint()
		c.stored = d.u32()
		c.raw = d.u32()
		c.firstSeq = d.uvarint()
		c.firstIcount = d.uvarint()
		c.maxIcount = d.uvarint()
		c.count = d.u32()
	}
	n = d.uvarint()
	if n > uint64(d.left()) {
		return "blob count beyond end of index"
	}
	ix.blobs = make([]blobInfo, n)
	for i := range ix.blobs {
		b := &ix.blobs[i]
		b.off = d.uvarint()
		b.stored = d.u32()
		b.raw = d.u32()
	}
	n = d.uvarint()
	if n > uint64(d.left()) {
		return "kind count beyond end of index"
	}
	ix.kinds = make([]uint64, n)
	for i := range ix.kinds {
		ix.kinds[i] = d.uvarint()
	}
	n = d.uvarint()
	if n > uint64(d.left()) {
		return "checkpoint count beyond end of index"
	}
	ix.checkpoints = make([]Checkpoint, n)
	for i := range ix.checkpoints {
		cd := dec{b: d.raw(d.uvarint())}
		ix.checkpoints[i] = Checkpoint{Seq: cd.uvarint(), Icount: cd.uvarint(), Offset: cd.uvarint()}
		if cd.err != "" {
			d.fail("checkpoint: " + cd.err)
		}
	}
	ix.events = d.uvarint()
	return d.err
}
