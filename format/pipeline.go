package format

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// A concurrent Writer (WithConcurrency) compresses frames on worker
// goroutines while its caller goes on producing events. Only compression
// moves: everything that decides the bytes of the file stays on the caller's
// goroutine, in the order of a synchronous Writer. Blob ids and the SHA-256
// dedup are assigned when the event is written; frames are queued in file
// order; the caller itself writes each compressed frame to the underlying
// writer, in queue order, from inside Write, Flush and Close (so the
// underlying writer is only ever called from the caller's goroutine, during
// a Writer call, as with a synchronous Writer), and records the offsets of
// the index as it does. Every frame is one EncodeAll of its payload alone,
// a pure function of the payload whichever goroutine runs it, so the file is
// byte for byte the file of a synchronous Writer.

// Bounds of what a concurrent Writer holds in flight.
const (
	// maxQueuedBytes bounds the raw payload bytes of queued frames
	// (waiting, being compressed, or compressed and not yet written):
	// Write waits for the head of the queue when a frame does not fit.
	maxQueuedBytes = 2 << 20
	// maxQueuedJobs bounds the number of queued frames.
	maxQueuedJobs = 16
	// maxQueuedPayload is the largest payload that is queued (copied).
	// A larger one is compressed and written on the caller's goroutine
	// once the queue is empty, without a copy.
	maxQueuedPayload = 2 << 20
	// smallFrame is the payload size below which the caller compresses
	// a queued frame itself: handing it to a worker would cost more than
	// compressing it. It still waits in the queue for the frames before.
	smallFrame = 16 << 10
	// maxRetained bounds the buffer capacity kept for reuse by idle jobs:
	// the payload and frame buffers of a full queue.
	maxRetained = 2*maxQueuedBytes + 1<<20
	// maxWorkers caps the default number of compression goroutines: one.
	// Each worker has a zstd encoder and frames in flight, and peak RSS
	// must stay within the guest's + 64 MiB: recording gcheavy took
	// 80-85 MiB with two workers and a 4 MiB queue, 74-75 with one and
	// 2 MiB, 69-70 synchronous (its native RSS is 12 MiB); one worker
	// already takes compression off the guest's path on two cores.
	maxWorkers = 1
)

// defaultConcurrency is the number of compression goroutines a Writer uses
// unless WithConcurrency says otherwise: none (synchronous) with a single
// P, where a worker could only take turns with the caller.
func defaultConcurrency() int {
	n := runtime.GOMAXPROCS(0)
	if n < 2 {
		return 0
	}
	return min(n, maxWorkers)
}

// frameJob is one frame on its way to the file.
type frameJob struct {
	h    frameHeader
	raw  []byte // the payload; a queued job owns it
	out  []byte // the whole frame (header and stored payload) once compressed
	err  error  // from compressing
	done bool   // out is ready (guarded by pipeline.mu while queued)
}

// compressFrame makes j.out, the frame of j.h and j.raw: the payload
// compressed by c, behind the frame header.
func compressFrame(c compressor, j *frameJob) {
	// Room for the frame of an incompressible payload (zstd adds a frame
	// header and 3 bytes per 128 KiB block), so that the encoder's
	// appends do not grow it piece by piece; not for a payload too large
	// to queue, whose frame (a large memory delta: compressible) grows
	// as needed.
	if n := FrameHeaderSize + len(j.raw) + len(j.raw)>>12 + 64; cap(j.out) < n && len(j.raw) <= maxQueuedPayload {
		j.out = make([]byte, 0, n)
	}
	var zero [FrameHeaderSize]byte
	j.out = append(j.out[:0], zero[:]...)
	j.out = c.compress(j.out, j.raw)
	stored := j.out[FrameHeaderSize:]
	if uint64(len(stored)) > math.MaxUint32 {
		j.err = fmt.Errorf("format: frame payload too large")
		return
	}
	j.err = nil
	j.h.codec = c.codec()
	j.h.stored = uint32(len(stored))
	j.h.raw = uint32(len(j.raw))
	j.h.pcrc = crc(stored)
	j.h.put(j.out)
}

// pipeline is the queue of a concurrent Writer and its workers. Workers run
// only while there are frames to compress: a worker exits when it finds no
// job to claim, and Writer.submit starts one when a job waits and no worker
// is free, up to max. An idle Writer (even one never closed) holds no
// goroutine.
type pipeline struct {
	comp compressor // safe for concurrent use
	max  int        // worker goroutines at most

	mu      sync.Mutex
	cond    sync.Cond   // signalled when a job is compressed
	q       []*frameJob // frames in file order, not yet written
	next    int         // q[:next] are claimed by workers (or done), q[next:] wait
	bytes   int         // raw bytes of q
	workers int         // running worker goroutines
	busy    int         // workers compressing a job
	free    []*frameJob // idle jobs, with their buffers
	kept    int         // buffer capacity held by free
	done    atomic.Int32
	wg      sync.WaitGroup
}

func newPipeline(c compressor, workers int) *pipeline {
	p := &pipeline{comp: c, max: workers}
	p.cond.L = &p.mu
	return p
}

// work compresses queued jobs in queue order until none is left to claim.
func (p *pipeline) work() {
	defer p.wg.Done()
	p.mu.Lock()
	for p.next < len(p.q) {
		j := p.q[p.next]
		p.next++
		if j.done { // compressed by the caller (smallFrame)
			continue
		}
		p.busy++
		p.mu.Unlock()
		compressFrame(p.comp, j)
		p.mu.Lock()
		p.busy--
		j.done = true
		p.done.Add(1)
		p.cond.Signal() // the only waiter is the Writer's caller
	}
	p.workers--
	p.mu.Unlock()
}

// get returns an idle job whose payload buffer holds n bytes: the
// smallest such idle one, or one given a new buffer (p.mu held).
func (p *pipeline) get(n int) *frameJob {
	if len(p.free) == 0 {
		return &frameJob{raw: make([]byte, 0, n)}
	}
	best := len(p.free) - 1
	for i, j := range p.free {
		if c := cap(j.raw); c >= n && (cap(p.free[best].raw) < n || c < cap(p.free[best].raw)) {
			best = i
		}
	}
	j := p.free[best]
	last := len(p.free) - 1
	p.free[best] = p.free[last]
	p.free[last] = nil
	p.free = p.free[:last]
	p.kept -= cap(j.raw) + cap(j.out)
	if cap(j.raw) < n {
		j.raw = make([]byte, 0, n)
	}
	return j
}

// put makes j idle, keeping its buffers while the kept total stays within
// maxRetained (p.mu held).
func (p *pipeline) put(j *frameJob) {
	*j = frameJob{raw: j.raw[:0], out: j.out[:0]}
	if c := cap(j.raw) + cap(j.out); p.kept+c <= maxRetained && len(p.free) < maxQueuedJobs {
		p.kept += c
		p.free = append(p.free, j)
	}
}

// queue sends the frame of h and raw on its way: written at once by a
// synchronous Writer, compressed by a worker otherwise. chunk says raw is
// the chunk buffer w.x.e.b, which a queued job takes over (the chunk goes
// on in the job's old buffer) instead of copying it.
func (w *Writer) queue(h frameHeader, raw []byte, chunk bool) error {
	if w.err != nil {
		return w.err
	}
	p := w.p
	if p == nil || len(raw) > maxQueuedPayload {
		if err := w.drain(); err != nil {
			return err
		}
		j := &w.sjob
		j.h, j.raw = h, raw
		compressFrame(w.comp, j)
		j.raw = nil
		_, err := w.writeJob(j)
		return err
	}
	p.mu.Lock()
	for len(p.q) > 0 && (len(p.q) >= maxQueuedJobs || p.bytes+len(raw) > maxQueuedBytes) {
		w.popHead()
	}
	if w.err != nil {
		p.mu.Unlock()
		return w.err
	}
	n := len(raw)
	if chunk {
		// The chunk goes on in the job's buffer: as large as this one.
		n = min(cap(raw), maxQueuedPayload)
	}
	j := p.get(n)
	j.h = h
	if chunk {
		j.raw, w.x.e.b = raw, j.raw[:0]
	} else {
		j.raw = append(j.raw[:0], raw...)
	}
	if len(j.raw) < smallFrame && !chunk {
		p.mu.Unlock()
		compressFrame(p.comp, j)
		p.mu.Lock()
		j.done = true
		p.done.Add(1)
		if p.next == len(p.q) {
			p.next++ // nothing for a worker to claim
		}
	}
	p.q = append(p.q, j)
	p.bytes += len(j.raw)
	if !j.done && p.workers < p.max && len(p.q)-p.next > p.workers-p.busy {
		p.workers++
		p.wg.Add(1)
		go p.work()
	}
	p.mu.Unlock()
	return nil
}

// popHead waits until the first queued job is compressed, takes it off the
// queue and writes its frame (p.mu held on entry and on return, not while
// writing). After an error, the frame is dropped instead.
func (w *Writer) popHead() {
	p := w.p
	j := p.q[0]
	for !j.done {
		p.cond.Wait()
	}
	n := copy(p.q, p.q[1:])
	p.q[n] = nil
	p.q = p.q[:n]
	p.next--
	p.bytes -= len(j.raw)
	p.done.Add(-1)
	p.mu.Unlock()
	w.writeJob(j) // sets w.err on failure
	p.mu.Lock()
	p.put(j)
}

// harvest writes the frames at the head of the queue that are compressed,
// without waiting for any.
func (w *Writer) harvest() error {
	p := w.p
	if p == nil || p.done.Load() == 0 {
		return w.err
	}
	p.mu.Lock()
	for len(p.q) > 0 && p.q[0].done {
		w.popHead()
	}
	p.mu.Unlock()
	return w.err
}

// drain writes every queued frame, waiting for their compression.
func (w *Writer) drain() error {
	p := w.p
	if p == nil {
		return w.err
	}
	p.mu.Lock()
	for len(p.q) > 0 {
		w.popHead()
	}
	p.mu.Unlock()
	return w.err
}

// shutdown drains the queue, waits for the workers to exit and releases the
// compressor. It is idempotent.
func (w *Writer) shutdown() {
	if p := w.p; p != nil {
		w.drain()
		p.wg.Wait()
		w.p = nil
	}
	if w.comp != nil {
		w.comp.close()
		w.comp = nil
	}
}

// writeJob writes the compressed frame j and records it in the index; it
// returns the frame's offset.
func (w *Writer) writeJob(j *frameJob) (uint64, error) {
	if w.err != nil {
		return 0, w.err
	}
	if j.err != nil {
		w.err = j.err
		return 0, w.err
	}
	off := w.off
	if err := w.write(j.out); err != nil {
		return 0, err
	}
	h := &j.h
	switch h.magic {
	case ChunkMagic:
		w.chunks = append(w.chunks, chunkInfo{off: off, stored: h.stored, raw: h.raw,
			firstSeq: h.a, firstIcount: h.b, maxIcount: h.c, count: h.count})
		w.stats.Chunks++
	case BlobMagic:
		w.blobs = append(w.blobs, blobInfo{off: off, stored: h.stored, raw: h.raw})
		w.stats.Blobs++
	}
	if h.magic != IndexMagic {
		w.stats.RawBytes += uint64(h.raw)
		w.stats.CompressedBytes += uint64(h.stored)
	}
	return off, nil
}
