package alerting

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"maps"
	"strconv"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"
)

// maxRuleFile bounds a rule file.
const maxRuleFile = 8 << 20

// ParseRuleFile reads Gaffer rules from YAML or JSON: one rule, a list of
// rules, or {rules: [...]}. Unknown fields are errors. The rules are not
// compiled yet.
func ParseRuleFile(b []byte) ([]Spec, error) {
	if len(b) > maxRuleFile {
		return nil, fmt.Errorf("rule file: larger than %d bytes", maxRuleFile)
	}
	var node yaml.Node
	if err := yaml.Unmarshal(b, &node); err != nil {
		return nil, fmt.Errorf("rule file: %w", err)
	}
	if len(node.Content) == 0 {
		return nil, errors.New("rule file: empty")
	}
	doc := node.Content[0]
	decode := func(n *yaml.Node, v any) error {
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		if err := enc.Encode(n); err != nil {
			return err
		}
		dec := yaml.NewDecoder(&buf)
		dec.KnownFields(true)
		if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		return nil
	}
	var specs []Spec
	switch {
	case doc.Kind == yaml.SequenceNode:
		if err := decode(doc, &specs); err != nil {
			return nil, fmt.Errorf("rule file: %w", err)
		}
	case doc.Kind == yaml.MappingNode && mappingHas(doc, "rules"):
		var f struct {
			Rules []Spec `yaml:"rules"`
		}
		if err := decode(doc, &f); err != nil {
			return nil, fmt.Errorf("rule file: %w", err)
		}
		specs = f.Rules
	case doc.Kind == yaml.MappingNode:
		var s Spec
		if err := decode(doc, &s); err != nil {
			return nil, fmt.Errorf("rule file: %w", err)
		}
		specs = []Spec{s}
	default:
		return nil, fmt.Errorf("rule file: line %d: want a rule, a list of rules or {rules: [...]}", doc.Line)
	}
	if len(specs) == 0 {
		return nil, errors.New("rule file: no rules")
	}
	return specs, nil
}

func mappingHas(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

// Imported is an alerting rule of a Prometheus rule file, with the ID it
// keeps across imports of the same file.
type Imported struct {
	ID   string `json:"id"`
	Spec Spec   `json:"spec"`
}

// ImportPrometheus converts a Prometheus rule file (YAML rule groups),
// validated by Prometheus's own parser, into Gaffer rules: each alerting
// rule keeps its expression, for, keep_firing_for, labels (the group's
// first) and annotations; the group's interval becomes the rule's.
// Recording rules are not alerts: they are skipped and named in the
// notes. A rule's ID derives from its group, name and position among
// rules of that name, so importing the file again updates the same rules.
func ImportPrometheus(b []byte) ([]Imported, []string, error) {
	if len(b) > maxRuleFile {
		return nil, nil, fmt.Errorf("rule file: larger than %d bytes", maxRuleFile)
	}
	groups, errs := rulefmt.Parse(b, false, model.UTF8Validation, promParser, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("prometheus rule file: %w", errors.Join(errs...))
	}
	var out []Imported
	var notes []string
	for _, g := range groups.Groups {
		seen := map[string]int{}
		for _, r := range g.Rules {
			if r.Record != "" {
				notes = append(notes, fmt.Sprintf("group %s: recording rule %s skipped (Gaffer imports alerting rules)", g.Name, r.Record))
				continue
			}
			ls := maps.Clone(g.Labels)
			if ls == nil {
				ls = map[string]string{}
			}
			maps.Copy(ls, r.Labels)
			if len(ls) == 0 {
				ls = nil
			}
			spec := Spec{Name: r.Alert, Group: g.Name, PromQL: r.Expr, For: Duration(r.For),
				KeepFiringFor: Duration(r.KeepFiringFor), Labels: ls, Annotations: r.Annotations, Interval: Duration(g.Interval)}
			h := fnv.New64a()
			fmt.Fprintf(h, "%s\x00%s\x00%d", g.Name, r.Alert, seen[r.Alert])
			seen[r.Alert]++
			out = append(out, Imported{ID: "prom-" + strconv.FormatUint(h.Sum64(), 16), Spec: spec})
		}
	}
	if len(out) == 0 {
		return nil, notes, errors.New("prometheus rule file: no alerting rules")
	}
	return out, notes, nil
}
