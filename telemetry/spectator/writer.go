package spectator

// Writer sends protocol lines. WriteLine must not keep line.
type Writer interface {
	WriteLine(line []byte)
	Close() error
}
