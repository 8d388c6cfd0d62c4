package remotewrite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/golang/snappy"

	"github.com/gaffer-sre/gaffer/telemetry/prom"
)

// A segment is a sequence of records, each a header and a payload:
//
//	payload length  uint32, little endian
//	sample count    uint32, little endian
//	CRC-32C         uint32 of the payload
//	payload         a snappy-compressed remote-write 1.0 WriteRequest
//
// The sample count lets the queue count what it drops without decoding.
const headerSize = 12

// maxRecordBytes bounds one record's payload: a larger length in a header
// is corruption, not data.
const maxRecordBytes = 256 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errTorn marks a record cut short or damaged: the end of the valid data.
var errTorn = errors.New("torn or damaged record")

// recordHeader is a record's header.
type recordHeader struct {
	size    uint32 // payload bytes
	samples uint32
	crc     uint32
}

// appendRecord appends the record of series (holding n samples) to b.
func appendRecord(b []byte, series []prom.TimeSeries, n int) []byte {
	payload := snappy.Encode(nil, prom.AppendWriteRequest(nil, series))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(payload, castagnoli))
	return append(b, payload...)
}

// parseHeader reads a header from its 12 bytes.
func parseHeader(b []byte) (recordHeader, error) {
	if len(b) < headerSize {
		return recordHeader{}, fmt.Errorf("%w: header of %d bytes, want %d", errTorn, len(b), headerSize)
	}
	h := recordHeader{size: binary.LittleEndian.Uint32(b), samples: binary.LittleEndian.Uint32(b[4:]), crc: binary.LittleEndian.Uint32(b[8:])}
	if h.size == 0 || h.size > maxRecordBytes {
		return h, fmt.Errorf("%w: payload length %d out of range (1..%d)", errTorn, h.size, maxRecordBytes)
	}
	return h, nil
}

// readRecord reads the record at the start of r and returns its header
// and payload; errTorn (wrapped) when it is cut short or its checksum
// fails, io.EOF when r is at its end.
func readRecord(r io.Reader, hbuf []byte) (recordHeader, []byte, error) {
	if _, err := io.ReadFull(r, hbuf[:headerSize]); err != nil {
		if err == io.EOF {
			return recordHeader{}, nil, io.EOF
		}
		return recordHeader{}, nil, fmt.Errorf("%w: %w", errTorn, err)
	}
	h, err := parseHeader(hbuf)
	if err != nil {
		return h, nil, err
	}
	payload := make([]byte, h.size)
	if _, err := io.ReadFull(r, payload); err != nil {
		return h, nil, fmt.Errorf("%w: payload: %w", errTorn, err)
	}
	if crc32.Checksum(payload, castagnoli) != h.crc {
		return h, nil, fmt.Errorf("%w: checksum mismatch", errTorn)
	}
	return h, payload, nil
}

// decodePayload decodes a record's payload into series; their label
// strings point into the decompressed buffer, which nothing reuses.
func decodePayload(payload []byte) ([]prom.TimeSeries, error) {
	n, err := snappy.DecodedLen(payload)
	if err != nil {
		return nil, fmt.Errorf("record payload: %w", err)
	}
	if n > maxRecordBytes*4 {
		return nil, fmt.Errorf("record payload: decodes to %d bytes, more than %d", n, maxRecordBytes*4)
	}
	raw, err := snappy.Decode(nil, payload)
	if err != nil {
		return nil, fmt.Errorf("record payload: %w", err)
	}
	var req prom.WriteRequest
	if err := prom.DecodeWriteRequest(raw, &req); err != nil {
		return nil, fmt.Errorf("record payload: %w", err)
	}
	return req.Series, nil
}

// countSamples returns how many float samples series hold.
func countSamples(series []prom.TimeSeries) int {
	n := 0
	for i := range series {
		n += len(series[i].Samples)
	}
	return n
}
