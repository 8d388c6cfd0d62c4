package cli

import (
	"strings"
	"testing"
)

func TestReadEvents(t *testing.T) {
	stream := "event: log\ndata: one\n\ndata: two\n\n: comment\nevent: end\ndata: {}\n\ndata: after\n"
	var got []string
	err := ReadEvents(strings.NewReader(stream), func(event, data string) bool {
		got = append(got, event+"="+data)
		return event != "end"
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "log=one,=two,end={}"; strings.Join(got, ",") != want {
		t.Errorf("got %s, want %s", strings.Join(got, ","), want)
	}
}
