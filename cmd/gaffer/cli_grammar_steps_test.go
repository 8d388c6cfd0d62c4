package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/remediation"
	"github.com/gaffer-sre/gaffer/security/sshca"
)

// grammarStep is one command line of the walk through every
// state-changing command. Arguments may hold {name} placeholders: the
// files the fixture writes ({dir}), and values earlier steps captured.
type grammarStep struct {
	args  []string
	stdin string
	// as is the token to run with: "" for the admin token, "alice" for a
	// token bound to identity alice that may sign SSH certificates, "bob"
	// for one that may answer runbook approvals (not the runner's own).
	as string
	// capture reads values later steps use from a successful output.
	capture map[string]*regexp.Regexp
	// mayConflict allows, instead of the confirmation, a 409 error line:
	// for control verbs on a failover execution, which runs on by itself.
	mayConflict bool
}

// grammarFixture is the state the steps share: the files they read and
// the values they captured.
type grammarFixture struct {
	vars map[string]string
}

func (f *grammarFixture) expand(s string) string {
	for k, v := range f.vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

func re(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// grammarSteps lists, in order, a command line for every state-changing
// command; TestCLIGrammarEveryCommand fails when one is missing.
func grammarSteps(*grammarFixture) []grammarStep {
	return []grammarStep{
		{args: []string{"token", "create", "ci", "--scopes", "events:read,events:write"}},
		{args: []string{"token", "revoke", "ci"}},

		{args: []string{"events", "rules", "create", "-f", "{dir}/rule.json"},
			capture: map[string]*regexp.Regexp{"rule": re(`created rule grammar rule \((rule_\w{8})`)}},
		{args: []string{"events", "rules", "update", "grammar rule", "-f", "{dir}/rule.json"}},
		{args: []string{"events", "rules", "disable", "{rule}"}}, // a prefix of its ID
		{args: []string{"events", "rules", "enable", "grammar rule"}},
		{args: []string{"events", "publish", "--type", "gaffer.grammar.test", "--data", `{"n": 1}`}},
		{args: []string{"events", "rules", "delete", "grammar rule"}},
		{args: []string{"events", "publish", "--type", "gaffer.grammar.dead", "--data", `{"n": 2}`}},
		{args: []string{"events", "deadletters", "redrive", "{deadletter}"}},

		{args: []string{"alerts", "rules", "apply", "-f", "-"}, stdin: "name: GrammarTest\npromql: vector(1) > 2\n"},
		{args: []string{"alerts", "rules", "import", "-f", "{dir}/prom.yml"}},
		{args: []string{"alerts", "silence", "alertname=GrammarTest", "--comment", "grammar"},
			capture: map[string]*regexp.Regexp{"silence": re(`created silence (\w{6})\w*:`)}}, // a unique prefix names it
		{args: []string{"alerts", "silence", "expire", "{silence}"}},
		{args: []string{"alerts", "rules", "delete", "GrammarTest"}},

		{args: []string{"metrics", "import", "{dir}/temps.csv"}},

		{args: []string{"certs", "ca", "create", "root", "--kind", "root"}},
		{args: []string{"certs", "ca", "create", "issuing", "--kind", "intermediate", "--parent", "root", "--allowed-domain", ".svc.example.com"}},
		{args: []string{"certs", "issue", "--authority", "issuing", "--cn", "api.svc.example.com", "--owner", "ops",
			"--out-cert", "{dir}/api.crt", "--out-key", "{dir}/api.key"},
			capture: map[string]*regexp.Regexp{"prefix": re(`serial ([0-9a-f]{10})`)}},
		{args: []string{"certs", "issue", "--authority", "issuing", "--cn", "web.svc.example.com", "--server-key", "--out-cert", "{dir}/web.crt"},
			capture: map[string]*regexp.Regexp{"web": re(`serial ([0-9a-f]+)`)}},
		{args: []string{"certs", "rotate", "{web}"}},
		{args: []string{"certs", "revoke", "{prefix}", "--reason", "key_compromise"}},
		{args: []string{"certs", "import", "{dir}/endpoint.pem"}},
		{args: []string{"certs", "scan", "{endpoint}"}},
		{args: []string{"certs", "bulk", "reissue", "--owner", "ops"}},
		{args: []string{"certs", "bulk", "revoke", "--owner", "ops", "--reason", "superseded"}},
		{args: []string{"certs", "acme", "eab", "create", "issuing"}, capture: map[string]*regexp.Regexp{"eab": re(`key id:\s+(\S+)`)}},
		{args: []string{"certs", "acme", "eab", "revoke", "issuing", "{eab}"}},
		{args: []string{"certs", "acme", "anonymous-accounts", "allow", "issuing"}},
		{args: []string{"certs", "acme", "anonymous-accounts", "refuse", "issuing"}},
		{args: []string{"certs", "kek", "rotate"}},

		{args: []string{"sshca", "ca", "create", "ops-users", "--type", "user"},
			capture: map[string]*regexp.Regexp{"oldkey": re(`(?m)^ops-users\t(\S+)\t`)}},
		{args: []string{"sshca", "ca", "rotate", "ops-users"}},
		{args: []string{"sshca", "ca", "retire", "ops-users", "{oldkey}"}},
		{args: []string{"sshca", "policy", "set", "grammar", "--file", "{dir}/policy.json"}},
		{args: []string{"sshca", "policy", "delete", "grammar"}},
		{args: []string{"sshca", "sign", "--pubkey", "{dir}/id_ed25519.pub", "--principal", "alice", "--out", "{dir}/id_ed25519-cert.pub"},
			as: "alice", capture: map[string]*regexp.Regexp{"sshserial": re(`signed serial (\d{8})`)}}, // a prefix
		{args: []string{"sshca", "revoke", "{sshserial}", "--reason", "grammar"}},
		{args: []string{"sshca", "kek", "rotate"}},

		{args: []string{"runbook", "apply", "-f", "{dir}/rb.yaml"}},
		{args: []string{"runbook", "promote", "grammar", "--env", "test"}},
		{args: []string{"runbook", "apply", "-f", "{dir}/rb2.yaml"}},
		{args: []string{"runbook", "promote", "grammar", "--env", "test"}},
		{args: []string{"runbook", "rollback", "grammar", "--env", "test"}},
		{args: []string{"runbook", "run", "grammar", "--env", "dev"},
			capture: map[string]*regexp.Regexp{"run": re(`started execution (\S+)`)}},
		{args: []string{"runbook", "approve", "{run}", "ask"}, as: "bob"},
		{args: []string{"runbook", "run", "grammar", "--env", "dev"},
			capture: map[string]*regexp.Regexp{"run2": re(`started execution (ex_\w{8})`)}}, // a prefix
		{args: []string{"runbook", "control", "pause", "{run2}"}},
		{args: []string{"runbook", "control", "resume", "{run2}"}},
		{args: []string{"runbook", "control", "cancel", "{run2}"}},
		{args: []string{"agent", "enroll", "web-1"}},
		{args: []string{"agent", "revoke", "web-1"}},
		{args: []string{"agent", "bundle", "{dir}/action"}},

		{args: []string{"workflow", "apply", "-f", "{dir}/wf.json"}},
		{args: []string{"workflow", "start", "grammar-wf", "--param", "n=3", "--wait"}},
		{args: []string{"workflow", "apply", "-f", "{dir}/wf2.json"}},
		{args: []string{"workflow", "activate", "grammar-wf", "1"}},
		{args: []string{"workflow", "start", "grammar-wf", "--param", "n=3600"},
			capture: map[string]*regexp.Regexp{"wfi": re(`instance (\d+)`)}},
		{args: []string{"workflow", "pause", "grammar-wf", "{wfi}"}},
		{args: []string{"workflow", "resume", "grammar-wf", "{wfi}"}},
		{args: []string{"workflow", "stop", "grammar-wf", "{wfi}"}},
		{args: []string{"workflow", "backfill", "grammar-wf", "--from", "2026-12-01", "--to", "2026-12-03", "--wait"}},
		{args: []string{"workflow", "apply", "-f", "{dir}/wf3.json"}},
		{args: []string{"workflow", "start", "grammar-k8s"}, capture: map[string]*regexp.Regexp{"k8s": re(`instance (\d+)`)}},
		{args: []string{"workflow", "restart", "grammar-k8s", "{k8s}"}, mayConflict: true}, // 409 until it has failed
		{args: []string{"workflow", "signal", "grammar_ready", "--param", "day=20261207"}},
		{args: []string{"workflow", "template", "apply", "-f", "{dir}/tmpl.json"}},
		{args: []string{"workflow", "unblock", "grammar-wf"}},

		{args: []string{"genie", "apply", "-f", "{dir}/genie.json"}},
		{args: []string{"genie", "job", "submit", "--command-tags", "type:grammar", "--cluster-tags", "sched:grammar", "3600"},
			capture: map[string]*regexp.Regexp{"gjob": re(`submitted job (\S+):`)}},
		{args: []string{"genie", "job", "kill", "{gjob}"}},
		{args: []string{"notebook", "run", "{dir}/nb.ipynb", "{dir}/nb-out.ipynb", "-p", "n", "2"}}, // local: needs python3-ipykernel
		{args: []string{"notebook", "upload", "{dir}/nb.ipynb", "--name", "grammar-nb"}},
		{args: []string{"notebook", "set-default", "grammar-wf"}},

		{args: []string{"failover", "import", "-f", "{dir}/fleet.yaml"}},
		{args: []string{"failover", "size-darkpools", "streaming"}},
		{args: []string{"failover", "plan", "streaming", "--evacuate", "us-west-2", "--execute"},
			capture: map[string]*regexp.Regexp{"ex": re(`started execution (ex_\w{8})`)}}, // a prefix
		{args: []string{"failover", "pause", "{ex}"}, mayConflict: true},
		{args: []string{"failover", "resume", "{ex}"}, mayConflict: true},
		{args: []string{"failover", "abort", "{ex}"}, mayConflict: true},
		{args: []string{"failover", "rollback", "{ex}"}, mayConflict: true},
	}
}

// writeGrammarFiles writes the files the steps read into dir.
func writeGrammarFiles(t *testing.T, dir, deadHook string) {
	t.Helper()
	fleet, err := os.ReadFile("../../demand/failover/testdata/fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	pub, _ := ssh.NewPublicKey(priv.Public())
	files := map[string]string{
		"rule.json": `{"name": "grammar rule", "condition": "type == \"gaffer.grammar.test\"", "actions": [{"type": "suppress", "key": "type", "window": "1m", "limit": 1}]}`,
		"dead.json": `{"name": "grammar dead", "condition": "type == \"gaffer.grammar.dead\"",
			"actions": [{"type": "webhook", "url": "` + deadHook + `", "max_attempts": 1}]}`,
		"prom.yml":       "groups:\n- name: grammar\n  rules:\n  - alert: GrammarImported\n    expr: vector(1) > 2\n",
		"temps.csv":      "timestamp,metric,host,value\n1700000000,grammar_temperature,h1,20.5\n",
		"policy.json":    `{"identities": ["bob"], "max_validity": "1h"}`,
		"id_ed25519.pub": string(ssh.MarshalAuthorizedKey(pub)),
		"fleet.yaml":     string(fleet),
		"rb.yaml": `name: grammar
steps:
  - name: ask
    type: approval
    question: go on?
  - name: nap
    type: sleep
    duration: 1h
`,
		"rb2.yaml": `name: grammar
description: the second version
steps:
  - name: ask
    type: approval
    question: go on?
  - name: nap
    type: sleep
    duration: 1h
`,
		"wf.json": `{"workflow": {"id": "grammar-wf", "params": {"n": {"value": 0, "type": "LONG"}},
			"steps": [{"step": {"id": "nap", "type": "Sleep", "params": {"sleep_seconds": {"value": "${n}", "type": "LONG"}}}}]}}`,
		"wf2.json": `{"workflow": {"id": "grammar-wf", "description": "the second version", "params": {"n": {"value": 0, "type": "LONG"}},
			"steps": [{"step": {"id": "nap", "type": "Sleep", "params": {"sleep_seconds": {"value": "${n}", "type": "LONG"}}}}]}}`,
		"genie.json": `{"clusters": [{"id": "grammar", "name": "grammar", "user": "ops", "version": "1", "tags": ["sched:grammar"]}],
			"commands": [{"id": "grammar-sleep", "name": "sleep", "user": "ops", "version": "1", "tags": ["type:grammar"],
				"executable": "sleep", "clusterCriteria": [{"tags": ["sched:grammar"]}]}]}`,
		"wf3.json":           `{"workflow": {"id": "grammar-k8s", "steps": [{"step": {"id": "pod", "type": "Kubernetes"}}]}}`,
		"tmpl.json":          `{"id": "grammar-step", "description": "a reusable wait", "step": {"type": "NoOp"}}`,
		"action/action.yaml": "name: grammar-echo\nversion: '1'\ncommand: ./run.sh\n",
		"action/run.sh":      "#!/bin/sh\necho '{}'\n",
		"nb.ipynb": `{"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
			"cells": [{"id": "p", "cell_type": "code", "execution_count": null, "metadata": {"tags": ["parameters"]}, "outputs": [], "source": "n = 1"},
			{"id": "q", "cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": "print(n * 2)"}]}`,
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCLIGrammarMutatingCommandsConfirm runs every state-changing command
// against a server and checks it prints one line saying what it did.
func TestCLIGrammarMutatingCommandsConfirm(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{EgressAllow: platformtest.AllowLoopback})
	dir := t.TempDir()
	endpoint := httptest.NewTLSServer(http.NotFoundHandler())
	defer endpoint.Close()
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusBadRequest) }))
	defer dead.Close()
	writeGrammarFiles(t, dir, dead.URL)
	endpointPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: endpoint.Certificate().Raw})
	os.WriteFile(filepath.Join(dir, "endpoint.pem"), endpointPEM, 0o644)
	tokens := map[string]string{"": srv.AdminToken, "alice": identityToken(t, srv, "alice", sshca.ScopeSign),
		"bob": identityToken(t, srv, "bob", "remediation:write")}

	f := &grammarFixture{vars: map[string]string{"dir": dir, "endpoint": strings.TrimPrefix(endpoint.URL, "https://")}}
	// A dead letter for redrive: a rule whose webhook always fails.
	mustCLI(t, srv, srv.AdminToken, "events", "rules", "create", "-f", filepath.Join(dir, "dead.json"))

	for _, s := range grammarSteps(f) {
		args := make([]string, len(s.args))
		for i, a := range s.args {
			args[i] = f.expand(a)
		}
		if args[0] == "runbook" && args[1] == "approve" {
			// `runbook run` returns once the execution started; the
			// approval step may not be waiting for its answer yet.
			waitStepWaiting(t, srv, args[2], args[3])
		}
		if strings.Contains(strings.Join(args, " "), "{deadletter}") {
			f.vars["deadletter"] = waitDeadLetter(t, srv)
			args = expandAll(f, args)
		}
		tok := tokens[s.as]
		line := "gaffer " + strings.Join(args, " ")
		stdout, stderr, code := gafferRun(t, s.stdin, append(args, "--server", srv.URL, "--token", tok)...)
		if code != 0 {
			if s.mayConflict && strings.Contains(stderr, "(HTTP 409)") {
				t.Logf("%s\n%s", line, stderr)
				c, _, _ := newRootCommand().Find(args)
				errorLineOK(t, strings.TrimPrefix(c.CommandPath(), "gaffer "), stderr)
				continue
			}
			t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", line, code, stdout, stderr)
		}
		t.Logf("%s\n%s", line, confirmation.FindString(stdout+stderr))
		if !confirmation.MatchString(stdout + stderr) {
			t.Errorf("%s printed no line confirming what it did:\nstdout: %s\nstderr: %s", line, stdout, stderr)
		}
		for name, pattern := range s.capture {
			m := pattern.FindStringSubmatch(stdout + stderr)
			if m == nil {
				t.Fatalf("%s: no %s in the output (%s):\n%s%s", line, name, pattern, stdout, stderr)
			}
			f.vars[name] = m[1]
		}
	}
}

func expandAll(f *grammarFixture, args []string) []string {
	for i, a := range args {
		args[i] = f.expand(a)
	}
	return args
}

// waitDeadLetter waits for the dead letter of the "grammar dead" rule and
// returns its ID.
// waitStepWaiting waits until the step of execution id waits for an
// answer.
func waitStepWaiting(t *testing.T, srv *platformtest.Server, id, step string) {
	t.Helper()
	platformtest.Eventually(t, "step "+step+" of "+id+" to wait", func() bool {
		var ex remediation.Execution
		if r := srv.Do("GET", "/api/v1/remediation/executions/"+id, srv.AdminToken, nil); r.Status != 200 || json.Unmarshal(r.Body, &ex) != nil {
			return false
		}
		for _, st := range ex.Steps {
			if st.Name == step && st.Status == remediation.StepWaiting {
				return true
			}
		}
		return false
	})
}

func waitDeadLetter(t *testing.T, srv *platformtest.Server) string {
	t.Helper()
	var id string
	platformtest.Eventually(t, "a dead letter", func() bool {
		out := mustCLI(t, srv, srv.AdminToken, "events", "deadletters")
		for _, l := range strings.Split(out, "\n")[1:] {
			if strings.Contains(l, "grammar dead") {
				id = strings.Fields(l)[0]
				return true
			}
		}
		return false
	})
	return id
}
