package fleet

import (
	"encoding/json"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// YAML writes f as a YAML document, fields in declaration order.
func (f *Fleet) YAML() ([]byte, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("encode fleet %s: %w", f.Name, err)
	}
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		return nil, fmt.Errorf("encode fleet %s: %w", f.Name, err)
	}
	blockStyle(&n)
	out, err := yaml.Marshal(&n)
	if err != nil {
		return nil, fmt.Errorf("encode fleet %s: %w", f.Name, err)
	}
	return out, nil
}

// blockStyle turns JSON's flow style into YAML's block style, keeping
// short lists of numbers (profiles) on one line.
func blockStyle(n *yaml.Node) {
	n.Style &^= yaml.FlowStyle
	if n.Kind == yaml.ScalarNode {
		n.Style &^= yaml.DoubleQuotedStyle
	}
	flow := n.Kind == yaml.SequenceNode && len(n.Content) > 0
	for _, c := range n.Content {
		blockStyle(c)
		if c.Kind != yaml.ScalarNode {
			flow = false
		}
	}
	if flow {
		n.Style |= yaml.FlowStyle
	}
}
