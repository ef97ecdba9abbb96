package format

import (
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// compressor turns a raw payload into the stored bytes of a frame. The
// Writer holds one for its life; WithCompression chooses it. compress is
// safe for concurrent use (a concurrent Writer's workers share it).
type compressor interface {
	codec() uint8
	compress(dst, src []byte) []byte
	close()
}

type noneCompressor struct{}

func (noneCompressor) codec() uint8                    { return CodecNone }
func (noneCompressor) compress(dst, src []byte) []byte { return append(dst, src...) }
func (noneCompressor) close()                          {}

type zstdCompressor struct{ enc *zstd.Encoder }

// compressWindow is the zstd window of the writer's encoder.
const compressWindow = 1 << 20

// newZstdCompressor makes the zstd compressor, able to run up to
// concurrency EncodeAll calls at once (one per worker of a concurrent
// Writer).
func newZstdCompressor(concurrency int) (*zstdCompressor, error) {
	// No zstd frame checksum (the frame has CRC-32C): EncodeAll is then
	// a pure function of its input. Each call takes one of concurrency
	// block encoders, resets it and encodes its input alone on the
	// calling goroutine, so the number of encoders changes nothing in
	// the output (TestConcurrentSameBytes). A 1 MiB window
	// covers a whole chunk; the default (8 MiB) made the encoder keep a
	// 16 MiB history once a large blob (an executable) was compressed —
	// that much more peak memory for every recording, for slightly
	// better compression of blobs over 1 MiB only.
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderConcurrency(concurrency),
		zstd.WithEncoderLevel(zstd.SpeedDefault),
		zstd.WithEncoderCRC(false),
		zstd.WithZeroFrames(true),
		zstd.WithWindowSize(compressWindow),
	)
	if err != nil {
		return nil, fmt.Errorf("format: zstd encoder: %w", err)
	}
	return &zstdCompressor{enc: enc}, nil
}

func (z *zstdCompressor) codec() uint8                    { return CodecZstd }
func (z *zstdCompressor) compress(dst, src []byte) []byte { return z.enc.EncodeAll(src, dst) }
func (z *zstdCompressor) close()                          { z.enc.Close() }

// decompressor undoes any codec a frame may name. The zstd decoder is made
// on first use and kept for the Reader's life.
type decompressor struct {
	dec *zstd.Decoder
}

// decompress returns the raw payload, exactly raw bytes long (raw has been
// checked against the limits by the caller).
func (d *decompressor) decompress(codecID uint8, src []byte, raw int) ([]byte, error) {
	switch codecID {
	case CodecNone:
		if len(src) != raw {
			return nil, fmt.Errorf("stored length %d != raw length %d", len(src), raw)
		}
		return src, nil
	case CodecZstd:
		if d.dec == nil {
			dec, err := zstd.NewReader(nil,
				zstd.WithDecoderConcurrency(1),
				zstd.WithDecoderMaxMemory(MaxBlobSize),
			)
			if err != nil {
				return nil, fmt.Errorf("zstd decoder: %w", err)
			}
			d.dec = dec
		}
		// Allocate as the output grows, not from the claimed length: a
		// hostile frame cannot make us allocate more than it decodes to.
		out, err := d.dec.DecodeAll(src, make([]byte, 0, min(raw, 1<<20)))
		if err != nil {
			return nil, fmt.Errorf("zstd: %v", err)
		}
		if len(out) != raw {
			return nil, fmt.Errorf("decompressed %d bytes, want %d", len(out), raw)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown codec %d", codecID)
}

func (d *decompressor) close() {
	if d.dec != nil {
		d.dec.Close()
		d.dec = nil
	}
}
