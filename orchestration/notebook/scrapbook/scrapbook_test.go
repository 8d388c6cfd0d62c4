package scrapbook

import (
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
)

func display(data map[string]any) *nbformat.Output {
	return &nbformat.Output{OutputType: "display_data", Data: data, Metadata: map[string]any{}}
}

func TestValuesLastGlueWins(t *testing.T) {
	nb := nbformat.New()
	nb.Cells = []*nbformat.Cell{
		{CellType: "code", Metadata: map[string]any{}, Outputs: []*nbformat.Output{
			display(map[string]any{MIMEJSON: map[string]any{"name": "n", "data": []any{"a"}, "encoder": "json", "version": 1}}),
			display(map[string]any{"text/plain": "not a scrap"}),
		}},
		{CellType: "code", Metadata: map[string]any{}, Outputs: []*nbformat.Output{
			display(map[string]any{MIMEText: map[string]any{"name": "n", "data": "later", "encoder": "text", "version": 1}}),
			display(map[string]any{MIMEJSON: map[string]any{"name": "m", "data": nil, "encoder": "json"}}),
		}},
	}
	scraps, err := Read(nb)
	if err != nil {
		t.Fatal(err)
	}
	if len(scraps) != 3 || scraps[0].Cell != 0 || scraps[1].Encoder != "text" {
		t.Fatalf("scraps %+v", scraps)
	}
	vals, _ := Values(nb)
	if vals["n"] != "later" || len(vals) != 2 {
		t.Fatalf("values %v", vals)
	}
}

func TestMalformedScrapNamesTheOutput(t *testing.T) {
	nb := nbformat.New()
	nb.Cells = []*nbformat.Cell{{CellType: "code", Metadata: map[string]any{}, Outputs: []*nbformat.Output{
		display(map[string]any{MIMEJSON: map[string]any{"data": 1}}),
	}}}
	if _, err := Values(nb); err == nil || !strings.Contains(err.Error(), "cells[0].outputs[0]") || !strings.Contains(err.Error(), "no name") {
		t.Fatalf("err = %v", err)
	}
}
