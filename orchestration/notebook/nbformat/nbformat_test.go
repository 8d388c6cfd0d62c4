package nbformat

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `{
 "cells": [
  {
   "cell_type": "markdown",
   "id": "intro",
   "metadata": {"collapsed": true},
   "source": ["# Title\n", "text"],
   "attachments": {"a.png": {"image/png": "AAAA"}}
  },
  {
   "cell_type": "code",
   "execution_count": 3,
   "id": "params",
   "metadata": {"tags": ["parameters"], "vendor": {"big": 12345678901234567890}},
   "outputs": [
    {"name": "stdout", "output_type": "stream", "text": ["a\n", "b\n"]},
    {"data": {"text/plain": ["1"], "application/json": ["x", "y"]}, "execution_count": 3, "metadata": {}, "output_type": "execute_result"},
    {"ename": "E", "evalue": "v", "output_type": "error", "traceback": ["t"], "future_field": 1}
   ],
   "source": "alpha = 1\n"
  }
 ],
 "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
 "nbformat": 4,
 "nbformat_minor": 5,
 "unknown_top": {"kept": true}
}`

func TestRoundTripKeepsEverything(t *testing.T) {
	nb, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(nb.Cells) != 2 || nb.Cells[0].Source != "# Title\ntext" || !nb.Cells[1].HasTag("parameters") {
		t.Fatalf("cells %+v", nb.Cells)
	}
	if out := nb.Cells[1].Outputs[0]; out.Text != "a\nb\n" {
		t.Fatalf("stream text %q", out.Text)
	}
	if got := nb.Cells[1].Outputs[1].Data["application/json"]; got == "xy" {
		t.Fatal("a JSON array was joined as lines")
	}
	data, err := nb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"unknown_top"`, `"future_field": 1`, `12345678901234567890`, `"a.png"`, `"# Title\n",`, `"id": "params"`} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("written notebook lacks %s:\n%s", want, data)
		}
	}
	again, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	data2, _ := again.Marshal()
	if !bytes.Equal(data, data2) {
		t.Fatalf("second round trip differs:\n%s\n%s", data, data2)
	}
	path := filepath.Join(t.TempDir(), "out.ipynb")
	if err := nb.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err != nil {
		t.Fatal(err)
	}
}

func TestValidationNamesTheField(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{`, "not valid JSON"},
		{`[]`, "want"},
		{`{"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "cells": []}`, "nbformat: version 3"},
		{`{"nbformat": 4, "metadata": {}, "cells": []}`, "nbformat_minor: missing"},
		{`{"nbformat": 4, "nbformat_minor": 5, "cells": []}`, "metadata: missing"},
		{`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": {}}`, "cells: want an array"},
		{`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "sql", "source": "", "metadata": {}}]}`, `cells[0].cell_type: "sql"`},
		{`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": 1, "metadata": {}}]}`, "cells[0].source"},
		{`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": []}]}`, "cells[0].execution_count: missing"},
		{`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": "", "metadata": {}, "execution_count": null, "outputs": [{"output_type": "bogus"}]}]}`, `cells[0].outputs[0].output_type: "bogus"`},
		{`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": "", "metadata": {}, "execution_count": null, "outputs": [{"output_type": "stream", "name": "stdlog", "text": ""}]}]}`, `cells[0].outputs[0].name`},
		{`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": "", "metadata": {}, "execution_count": null, "outputs": [{"output_type": "error", "ename": "E", "evalue": ""}]}]}`, `cells[0].outputs[0].traceback: missing`},
		{`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "raw", "id": "a b", "source": "", "metadata": {}}]}`, `cells[0].id`},
		{`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "raw", "id": "a", "source": "", "metadata": {}}, {"cell_type": "raw", "id": "a", "source": "", "metadata": {}}]}`, `cells[1].id: "a" is also the id of cells[0]`},
		{`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "raw", "source": "", "metadata": null}]}`, `cells[0].metadata`},
	} {
		_, err := Parse([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%s)\n = %v\n want an error containing %q", c.in, err, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte(`{"nbformat": 4, "nbformat_minor": 2, "metadata": {}, "cells": []}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		nb, err := Parse(data)
		if err != nil {
			return
		}
		out, err := nb.Marshal()
		if err != nil {
			t.Fatalf("a parsed notebook does not encode: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("a written notebook does not parse: %v\n%s", err, out)
		}
		out2, _ := again.Marshal()
		if !bytes.Equal(out, out2) {
			t.Fatalf("round trip differs:\n%s\n%s", out, out2)
		}
	})
}
