package correlate

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// encodeSeries packs rows of n values each as little-endian float64,
// deflated (series repeat their neighbours' high bytes).
func encodeSeries(rows [][]float64) ([]byte, error) {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	var b [8]byte
	for _, r := range rows {
		for _, v := range r {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
			if _, err := w.Write(b[:]); err != nil {
				return nil, err
			}
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeSeries unpacks rows of n values.
func decodeSeries(data []byte, rows, n int) ([][]float64, error) {
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(data)))
	if err != nil {
		return nil, fmt.Errorf("decode series: %w", err)
	}
	if len(raw) != rows*n*8 {
		return nil, fmt.Errorf("decode series: %d bytes for %d series of %d values", len(raw), rows, n)
	}
	out := make([][]float64, rows)
	for i := range out {
		out[i] = make([]float64, n)
		for j := range out[i] {
			out[i][j] = math.Float64frombits(binary.LittleEndian.Uint64(raw[(i*n+j)*8:]))
		}
	}
	return out, nil
}
