package cli

import (
	"bufio"
	"io"
	"strings"
)

// ReadEvents reads a server-sent event stream (from Client.Stream) and
// calls fn with each data line and the type of the event it belongs to
// ("" when the event names none), until fn returns false or the stream
// ends. It returns the read error, if any; lines of up to 16 MiB are read.
func ReadEvents(r io.Reader, fn func(event, data string) bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			if !fn(event, strings.TrimPrefix(line, "data: ")) {
				return nil
			}
		case line == "":
			event = ""
		}
	}
	return sc.Err()
}
