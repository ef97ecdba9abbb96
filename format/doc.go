// Package format reads and writes ptrec trace files.
//
// A trace is a file header (magic, version, Header record) followed by a
// stream of frames: chunks of events, each compressed with zstd and
// checksummed with CRC-32C on its own, and blob frames holding large byte
// payloads stored once and referenced by the events (content addressed by
// SHA-256). Close appends an index frame (chunk offsets, first event
// number, instruction-count range and event count per chunk, the blob table,
// per-kind counts and a checkpoint list) and a fixed-size trailer pointing at
// it. A Reader uses the index to seek; when the trailer or the index is
// missing or damaged (a recorder killed mid-run) it scans the frames from the
// start and keeps every whole, valid chunk, reporting Info().Truncated.
//
// The byte layout is specified in docs/FORMAT.md; a test keeps the document
// and the constants of this package in step.
//
// Writing is deterministic: the same Header and the same sequence of events
// give the same bytes.
package format
