// Command binsize reports how many bytes of a Go ELF binary each module
// accounts for: the sizes of its symbols in sections stored in the file
// (text, rodata, data; not .bss), summed by the module that defines them.
// DWARF and the pc-line table are not attributed to modules and appear
// only in the file size. Figures are in docs/benchmarks.md (Binary size).
//
//	go build -o /tmp/gaffer ./cmd/gaffer
//	go run ./bench/binsize [-top 25] /tmp/gaffer
package main

import (
	"cmp"
	"debug/buildinfo"
	"debug/elf"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

func main() {
	top := flag.Int("top", 25, "modules to list, largest first")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: binsize [-top N] BINARY")
		os.Exit(2)
	}
	if err := run(os.Stdout, flag.Arg(0), *top); err != nil {
		fmt.Fprintln(os.Stderr, "binsize:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, path string, top int) error {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read build info of %s: %w", path, err)
	}
	modules := []string{info.Main.Path}
	for _, d := range info.Deps {
		modules = append(modules, d.Path)
	}
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return fmt.Errorf("read symbols of %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	sizes := map[string]uint64{}
	var total uint64
	for _, s := range syms {
		if int(s.Section) >= len(f.Sections) || f.Sections[s.Section].Type == elf.SHT_NOBITS {
			continue
		}
		sizes[moduleOf(s.Name, info.Main.Path, modules)] += s.Size
		total += s.Size
	}
	names := make([]string, 0, len(sizes))
	for m := range sizes {
		names = append(names, m)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(sizes[b], sizes[a]), strings.Compare(a, b)) })
	fmt.Fprintf(w, "%12d  file size of %s\n%12d  symbols in file-backed sections\n", st.Size(), path, total)
	for _, m := range names[:min(top, len(names))] {
		fmt.Fprintf(w, "%12d  %s\n", sizes[m], m)
	}
	return nil
}

// moduleOf names the module defining symbol sym: the longest of modules
// that prefixes its import path ("main" counts as mainModule), "std" for
// the standard library (generic instantiations included),
// "(runtime metadata)" for the linker's go: tables and "(other)" for
// modules missing from the list. Type, itab and equality-function
// prefixes are stripped first. A package path's last element is written
// with dots as %2e in symbols (nats.go's root package is nats%2ego), so
// each module is matched in both spellings.
func moduleOf(sym, mainModule string, modules []string) string {
	s := sym
	for _, p := range []string{"go:itab.", "type:", ".eq."} {
		s = strings.TrimPrefix(s, p)
	}
	if strings.HasPrefix(s, "go:") {
		return "(runtime metadata)"
	}
	s = strings.TrimLeft(s, "*[]()")
	if strings.HasPrefix(s, "main.") {
		return mainModule
	}
	best := ""
	for _, m := range modules {
		dir, last := "", m
		if i := strings.LastIndex(m, "/"); i >= 0 {
			dir, last = m[:i+1], m[i+1:]
		}
		for _, spelling := range []string{m, dir + strings.ReplaceAll(last, ".", "%2e")} {
			if len(m) > len(best) && strings.HasPrefix(s, spelling) && len(s) > len(spelling) &&
				(s[len(spelling)] == '.' || s[len(spelling)] == '/') {
				best = m
			}
		}
	}
	if best != "" {
		return best
	}
	// A module path's first element has a dot ("github.com/…"); a standard
	// package's does not, though a generic instantiation's type arguments
	// may ("slices.pdqsortCmpFunc[go.shape.struct { github.com/…").
	if i := strings.IndexAny(s, "/[( "); i >= 0 && s[i] == '/' && strings.Contains(s[:i], ".") {
		return "(other)"
	}
	return "std"
}
