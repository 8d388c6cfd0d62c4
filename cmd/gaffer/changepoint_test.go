package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func runGaffer(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// stepSignal is 0 for 50 samples then 10 for 50, as CSV with a header.
func stepSignal() string {
	var b strings.Builder
	b.WriteString("value\n")
	for i := 0; i < 100; i++ {
		v := 0.0
		if i >= 50 {
			v = 10
		}
		v += float64(i%3) * 0.1
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64) + "\n")
	}
	return b.String()
}

func TestChangepointDetectJSON(t *testing.T) {
	for _, method := range []string{"pelt", "binseg", "bottomup", "window", "dynp", "kernelcpd"} {
		args := []string{"changepoint", "detect", "--method", method, "--cost", "l2", "--input", "-", "--width", "20"}
		if method == "kernelcpd" {
			args[5] = "linear"
		}
		if method == "dynp" || method == "window" {
			args = append(args, "--n-bkps", "1")
		} else {
			args = append(args, "--pen", "10")
		}
		out, err := runGaffer(t, stepSignal(), args...)
		if err != nil {
			t.Fatalf("%s: %v (%s)", method, err, out)
		}
		var res struct {
			Bkps    []int    `json:"bkps"`
			Elapsed *float64 `json:"elapsed_seconds"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%s: output %q: %v", method, out, err)
		}
		if !slices.Equal(res.Bkps, []int{50, 100}) || res.Elapsed == nil || *res.Elapsed < 0 {
			t.Errorf("%s: got %s", method, out)
		}
	}
}

func TestChangepointDetectTableAndPlot(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "s.json")
	if err := os.WriteFile(in, []byte("[[0,1],[0,1],[0,1],[0,1],[5,1],[5,1],[5,1],[5,1]]"), 0o644); err != nil {
		t.Fatal(err)
	}
	pngPath := filepath.Join(dir, "out.png")
	out, err := runGaffer(t, "", "changepoint", "detect", "--method", "dynp", "--cost", "l2", "--n-bkps", "1",
		"--jump", "1", "--input", in, "--output", "table", "--plot", pngPath, "--true-bkps", "4,8")
	if err != nil {
		t.Fatalf("%v (%s)", err, out)
	}
	if !strings.Contains(out, "SEGMENT") || len(strings.Split(strings.TrimSpace(out), "\n")) != 3 {
		t.Errorf("table output:\n%s", out)
	}
	fh, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatalf("plot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 960 || b.Dy() != 192+154*2 {
		t.Errorf("plot is %v, want 960x%d (two panels)", b, 192+154*2)
	}

	badPath := filepath.Join(dir, "bad.png")
	_, err = runGaffer(t, "", "changepoint", "detect", "--method", "dynp", "--cost", "l2", "--n-bkps", "1",
		"--jump", "1", "--input", in, "--plot", badPath, "--true-bkps", "4,20")
	if err == nil || !strings.Contains(err.Error(), "true breakpoints: entry 1 is 20") {
		t.Errorf("--true-bkps past the signal: err = %v, want it named", err)
	}
	if _, statErr := os.Stat(badPath); !os.IsNotExist(statErr) {
		t.Errorf("a failed --plot left %s behind (stat: %v)", badPath, statErr)
	}
}

func TestChangepointDetectErrors(t *testing.T) {
	tests := []struct {
		stdin string
		args  []string
		want  string
	}{
		{stepSignal(), []string{"--method", "pelt", "--cost", "l2"}, "exactly one of --pen"},
		{stepSignal(), []string{"--method", "pelt", "--cost", "l2", "--pen", "1", "--n-bkps", "2"}, "exactly one of --pen"},
		{stepSignal(), []string{"--method", "nope", "--cost", "l2", "--pen", "1"}, "unknown method"},
		{stepSignal(), []string{"--method", "pelt", "--cost", "nope", "--pen", "1"}, "unknown cost"},
		{stepSignal(), []string{"--method", "pelt", "--cost", "l2", "--pen", "1", "--min-size", "0"}, "--min-size"},
		{stepSignal(), []string{"--method", "pelt", "--cost", "l2", "--pen", "1", "--jump", "-2"}, "--jump"},
		{stepSignal(), []string{"--method", "pelt", "--cost", "l2", "--pen", "1", "--min-size", "500"}, "min_size 500 is larger than the signal"},
		{stepSignal(), []string{"--method", "dynp", "--cost", "l2", "--n-bkps", "90"}, "do not fit"},
		{stepSignal(), []string{"--method", "dynp", "--cost", "l2", "--pen", "3"}, "does not support stopping by pen"},
		{"1\nNaN\n3\n", []string{"--method", "pelt", "--cost", "l2", "--pen", "1"}, "non-finite"},
		{"", []string{"--method", "pelt", "--cost", "l2", "--pen", "1"}, "empty"},
		{"1,2\n3\n", []string{"--method", "pelt", "--cost", "l2", "--pen", "1"}, "ragged"},
		{stepSignal(), []string{"--method", "pelt", "--cost", "l2", "--pen", "1", "--output", "xml"}, "--output"},
		{stepSignal(), []string{"--method", "pelt", "--cost", "l2", "--pen", "1", "--input", "/nonexistent"}, "--input /nonexistent"},
	}
	for _, tc := range tests {
		out, err := runGaffer(t, tc.stdin, append([]string{"changepoint", "detect"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v (out %q), want it to mention %q", tc.args, err, out, tc.want)
		}
	}
}
