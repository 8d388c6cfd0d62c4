package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Ref is one thing a list command shows, by the ID and the name it shows
// (Name may be empty for things without one).
type Ref struct {
	ID   string
	Name string
}

// String is how a message names the thing: "name (id)", or the ID alone.
func (r Ref) String() string {
	if r.Name == "" || r.Name == r.ID {
		return r.ID
	}
	return r.Name + " (" + r.ID + ")"
}

// ErrNoMatch is wrapped by Resolve's error when nothing matches.
var ErrNoMatch = errors.New("not found")

// ErrAmbiguous is wrapped by Resolve's error when several things match.
var ErrAmbiguous = errors.New("ambiguous")

// Resolve finds the one candidate that arg names, in the CLI grammar's
// order: an exact ID, then an exact name, then a unique prefix of an ID.
// kind ("token", "certificate") names the thing in errors; an ambiguous
// arg is an error listing the candidates it matches. A thing may appear
// twice under different names (a rule's name and its group/name).
func Resolve(kind, arg string, candidates []Ref) (Ref, error) {
	if arg == "" {
		return Ref{}, fmt.Errorf("%s: an ID or name is required", kind)
	}
	var byName, byPrefix []Ref
	seen := map[string]bool{} // a thing may be listed under two names
	for _, c := range candidates {
		switch {
		case c.ID == arg:
			return c, nil
		case c.Name == arg:
			byName = append(byName, c)
		case strings.HasPrefix(c.ID, arg) && !seen[c.ID]:
			byPrefix = append(byPrefix, c)
			seen[c.ID] = true
		}
	}
	for _, matches := range [][]Ref{byName, byPrefix} {
		switch len(matches) {
		case 0:
			continue
		case 1:
			return matches[0], nil
		default:
			return Ref{}, fmt.Errorf("%s %q is %w: it matches %s", kind, arg, ErrAmbiguous, listRefs(matches))
		}
	}
	return Ref{}, fmt.Errorf("%s %q: %w (give an ID, a name, or a unique prefix of an ID, as the list shows them)", kind, arg, ErrNoMatch)
}

// listRefs names refs, sorted, for an error message.
func listRefs(refs []Ref) string {
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.String()
	}
	sort.Strings(names)
	const most = 10
	if len(names) > most {
		return fmt.Sprintf("%s and %d more", strings.Join(names[:most], ", "), len(names)-most)
	}
	return strings.Join(names, ", ")
}

// Plural is "1 problem", "2 problems": n and the noun agreeing with it
// (plural is the noun's plural form; "" adds "s").
func Plural(n int, singular, plural string) string {
	if n == 1 {
		return "1 " + singular
	}
	if plural == "" {
		plural = singular + "s"
	}
	return fmt.Sprintf("%d %s", n, plural)
}

// ListByDefault makes the bare noun run its list subcommand, as the CLI
// grammar asks: `gaffer token` lists tokens as `gaffer token list` does,
// taking the same flags.
func ListByDefault(noun, list *cobra.Command) {
	noun.Args = list.Args
	noun.RunE = list.RunE
	list.Flags().VisitAll(func(f *pflag.Flag) {
		if noun.Flags().Lookup(f.Name) == nil {
			noun.Flags().AddFlag(f)
		}
	})
}

// ResolveRecent names the thing arg refers to among the recent ones that
// listPath answers (a JSON list, or a page with "items"), ref giving each
// one's ID and name: an ID, a name or a unique ID prefix, as Resolve. An
// arg that matches nothing listed is returned as it is, for the server
// to find or refuse (an old execution may not be on the first page).
func ResolveRecent[T any](ctx context.Context, c *Client, kind, arg, listPath string, ref func(T) Ref) (Ref, error) {
	var raw json.RawMessage
	if err := c.Do(ctx, "GET", listPath, nil, &raw); err != nil {
		return Ref{}, err
	}
	var items []T
	if err := json.Unmarshal(raw, &items); err != nil {
		var page struct {
			Items []T `json:"items"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return Ref{}, fmt.Errorf("decode the list of %ss: %w", kind, err)
		}
		items = page.Items
	}
	refs := make([]Ref, len(items))
	for i, it := range items {
		refs[i] = ref(it)
	}
	found, err := Resolve(kind, arg, refs)
	if errors.Is(err, ErrNoMatch) {
		return Ref{ID: arg}, nil
	}
	return found, err
}
