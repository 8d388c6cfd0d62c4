package certs_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/security/certs"
)

// TestRotationDeploysAndRollsBack rotates a certificate deployed to files
// with a reload command and to a webhook; then makes the reload fail and
// checks the files are rolled back.
func TestRotationDeploysAndRollsBack(t *testing.T) {
	platformtest.EachBackend(t, rotationDeploysAndRollsBack)
}

func rotationDeploysAndRollsBack(t *testing.T, backend platformtest.Backend) {
	o := platformtest.Options{Backend: backend}
	var hookMu sync.Mutex
	var hooks []certs.WebhookDeployment
	fail := false
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b certs.WebhookDeployment
		json.NewDecoder(r.Body).Decode(&b)
		hookMu.Lock()
		defer hookMu.Unlock()
		hooks = append(hooks, b)
		if fail && !b.Rollback {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer hook.Close()
	o.Args = append(o.Args, "--certs-destination-ca-file", trustFile(t, hook))
	srv, tok := startPKI(t, o)
	dir := t.TempDir()
	certPath, keyPath, marker := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"), filepath.Join(dir, "reloaded")
	c := issue(t, srv, tok, certs.IssueRequest{CommonName: "web.example.test", AutoRotate: true})
	writer := srv.Token(certs.ScopeWrite)
	if resp := srv.Do("POST", "/api/v1/certs/certificates/"+c.Serial+"/destinations", writer, certs.Destination{Kind: "file", CertPath: certPath}); resp.Status != http.StatusForbidden {
		t.Fatalf("destination with certs:write: %d", resp.Status)
	}
	var d certs.Destination
	mustDo(t, srv, "POST", "/api/v1/certs/certificates/"+c.Serial+"/destinations", tok, certs.Destination{Kind: "file",
		CertPath: certPath, KeyPath: keyPath, ReloadCommand: "echo ok >> " + marker}, http.StatusCreated).JSON(t, &d)
	mustDo(t, srv, "POST", "/api/v1/certs/certificates/"+c.Serial+"/destinations", tok, certs.Destination{Kind: "webhook", URL: hook.URL}, http.StatusCreated)
	mustDo(t, srv, "POST", "/api/v1/certs/certificates/"+c.Serial+"/destinations", tok, certs.Destination{Kind: "file", CertPath: "relative"}, http.StatusBadRequest)

	var rot certs.RotateResponse
	mustDo(t, srv, "POST", "/api/v1/certs/rotate", writer, certs.RotateRequest{Certificates: []string{c.Serial}}, http.StatusOK).JSON(t, &rot)
	n := rot.Rotated[0].New
	if len(rot.Rotated[0].Deployed) != 2 {
		t.Fatalf("deployed to %v, failed %v", rot.Rotated[0].Deployed, rot.Rotated[0].Failed)
	}
	got, _ := os.ReadFile(certPath)
	if string(got) != n.Certificate+n.Chain {
		t.Errorf("%s does not hold the new certificate", certPath)
	}
	if st, err := os.Stat(keyPath); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", st, err)
	}
	if b, _ := os.ReadFile(marker); strings.Count(string(b), "ok") != 1 {
		t.Errorf("reload ran %q", b)
	}
	if len(hooks) != 1 || hooks[0].Serial != n.Serial || !strings.Contains(hooks[0].PrivateKey, "PRIVATE KEY") {
		t.Errorf("webhook got %+v", hooks)
	}

	// Now the reload fails: the files go back to what they were.
	var ds []certs.Destination
	mustDo(t, srv, "GET", "/api/v1/certs/certificates/"+n.Serial+"/destinations", tok, nil, http.StatusOK).JSON(t, &ds)
	if len(ds) != 2 {
		t.Fatalf("the replacement inherited %d destinations", len(ds))
	}
	mustDo(t, srv, "DELETE", "/api/v1/certs/certificates/"+n.Serial+"/destinations/"+strconv.FormatInt(ds[0].ID, 10), tok, nil, http.StatusNoContent)
	mustDo(t, srv, "POST", "/api/v1/certs/certificates/"+n.Serial+"/destinations", tok, certs.Destination{Kind: "file",
		CertPath: certPath, KeyPath: keyPath, ReloadCommand: "test -f " + marker + ".twice && echo rolled-back >> " + marker + " || { touch " + marker + ".twice; echo nginx: bad config >&2; exit 1; }"},
		http.StatusCreated)
	before, _ := os.ReadFile(certPath)
	beforeKey, _ := os.ReadFile(keyPath)
	hookMu.Lock()
	fail = true
	hookMu.Unlock()
	mustDo(t, srv, "POST", "/api/v1/certs/rotate", writer, certs.RotateRequest{Certificates: []string{n.Serial}}, http.StatusMultiStatus).JSON(t, &rot)
	r := rot.Rotated[0]
	if len(r.Failed) != 2 || !strings.Contains(strings.Join(r.Failed, " "), "rolled back") || !strings.Contains(strings.Join(r.Failed, " "), "nginx: bad config") {
		t.Errorf("failures: %v", r.Failed)
	}
	after, _ := os.ReadFile(certPath)
	afterKey, _ := os.ReadFile(keyPath)
	if string(after) != string(before) || string(afterKey) != string(beforeKey) {
		t.Error("the files were not rolled back after the failed reload")
	}
	if b, _ := os.ReadFile(marker); !strings.Contains(string(b), "rolled-back") {
		t.Errorf("the reload did not run again after the rollback: %q", b)
	}
	if last := hooks[len(hooks)-1]; !last.Rollback || last.Serial != n.Serial {
		t.Errorf("webhook rollback re-sent %+v", last)
	}
	if e := auditEntries(t, srv, "certs.rotation"); e[0].Outcome != "failure" {
		t.Errorf("failed rotation audited as %+v", e[0])
	}
	if msg, err := srv.Deps().Bus.Stream.GetLastMsgForSubject(context.Background(), certs.RotationFailedEventType); err != nil ||
		!strings.Contains(string(msg.Data), "rolled back") {
		t.Errorf("no rotation_failed event naming the rollback: %v", err)
	}
	// Retried (as the rotation job is) once the reload works again, the
	// rotation deploys the replacement it already issued.
	hookMu.Lock()
	fail = false
	hookMu.Unlock()
	var again certs.RotateResponse
	mustDo(t, srv, "POST", "/api/v1/certs/rotate", writer, certs.RotateRequest{Certificates: []string{n.Serial}}, http.StatusOK).JSON(t, &again)
	if a := again.Rotated[0]; a.New.ID != r.New.ID || len(a.Deployed) != 2 {
		t.Errorf("retried rotation: new %d (want %d), deployed %v, failed %v", a.New.ID, r.New.ID, a.Deployed, a.Failed)
	}
	if got, _ := os.ReadFile(certPath); string(got) != r.New.Certificate+r.New.Chain {
		t.Error("the retried rotation did not deploy the replacement")
	}
}

// TestExpiryNotifications checks that certificates crossing their
// thresholds are announced once as gaffer.certs.expiring CloudEvents, and
// that a per-certificate override applies.
func TestExpiryNotifications(t *testing.T) { platformtest.EachBackend(t, expiryNotifications) }

func expiryNotifications(t *testing.T, backend platformtest.Backend) {
	o := platformtest.Options{Backend: backend}
	srv, tok := startPKI(t, o)
	soon := issue(t, srv, tok, certs.IssueRequest{CommonName: "soon.example.test", Validity: certs.Duration(10 * 24 * 3600e9), Owner: "alice"})
	issue(t, srv, tok, certs.IssueRequest{CommonName: "quiet.example.test", Validity: certs.Duration(10 * 24 * 3600e9), NotifyDays: []int{5}})
	issue(t, srv, tok, certs.IssueRequest{CommonName: "later.example.test", Validity: certs.Duration(90 * 24 * 3600e9)})
	var res certs.CheckResult
	mustDo(t, srv, "POST", "/api/v1/certs/check", tok, nil, http.StatusOK).JSON(t, &res)
	if res.Notified != 1 {
		t.Fatalf("notified %d, want 1", res.Notified)
	}
	mustDo(t, srv, "POST", "/api/v1/certs/check", tok, nil, http.StatusOK).JSON(t, &res)
	if res.Notified != 0 {
		t.Errorf("second check notified %d again", res.Notified)
	}
	msg, err := srv.Deps().Bus.Stream.GetLastMsgForSubject(context.Background(), certs.ExpiringEventType)
	if err != nil {
		t.Fatalf("no expiry event on the bus: %v", err)
	}
	var ev struct {
		Type, Source, Subject string
		Data                  certs.ExpiringEvent
	}
	if err := json.Unmarshal(msg.Data, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != certs.ExpiringEventType || ev.Source != "/certs" || ev.Subject != soon.Serial || ev.Data.ThresholdDays != 15 || ev.Data.Owner != "alice" {
		t.Errorf("event: %+v", ev)
	}
	var sent []certs.Notification
	mustDo(t, srv, "GET", "/api/v1/certs/notifications", tok, nil, http.StatusOK).JSON(t, &sent)
	if len(sent) != 2 { // thresholds 30 and 15, announced by one event
		t.Errorf("notifications: %+v", sent)
	}
}

// TestBulkJobs revokes and reissues by filter through River jobs.
func TestBulkJobs(t *testing.T) { platformtest.EachBackend(t, bulkJobs) }

func bulkJobs(t *testing.T, backend platformtest.Backend) {
	o := platformtest.Options{Backend: backend}
	srv, tok := startPKI(t, o)
	for i := range 3 {
		issue(t, srv, tok, certs.IssueRequest{CommonName: "b" + strconv.Itoa(i) + ".example.test", Team: "blue"})
		issue(t, srv, tok, certs.IssueRequest{CommonName: "g" + strconv.Itoa(i) + ".example.test", Team: "green"})
	}
	mustDo(t, srv, "POST", "/api/v1/certs/bulk", tok, certs.BulkRequest{Action: "revoke"}, http.StatusBadRequest)
	mustDo(t, srv, "POST", "/api/v1/certs/bulk", tok, certs.BulkRequest{Action: "explode", Filter: certs.BulkFilter{Team: "blue"}}, http.StatusBadRequest)
	var br certs.BulkResponse
	mustDo(t, srv, "POST", "/api/v1/certs/bulk", tok, certs.BulkRequest{Action: "revoke", Reason: "cessation_of_operation",
		Filter: certs.BulkFilter{Team: "blue"}}, http.StatusAccepted).JSON(t, &br)
	if br.Matched != 3 || br.JobID == 0 {
		t.Fatalf("bulk revoke: %+v", br)
	}
	waitFor(t, func() bool { return len(listCerts(t, srv, tok, "team=blue&status=revoked")) == 3 })
	mustDo(t, srv, "POST", "/api/v1/certs/bulk", tok, certs.BulkRequest{Action: "reissue", Filter: certs.BulkFilter{Team: "green"}},
		http.StatusAccepted).JSON(t, &br)
	waitFor(t, func() bool { return len(listCerts(t, srv, tok, "team=green&status=replaced")) == 3 })
	if n := len(listCerts(t, srv, tok, "team=green&status=active")); n != 3 {
		t.Errorf("%d active green certificates after the reissue, want 3", n)
	}
	revokes := 0
	for _, e := range auditEntries(t, srv, "certs.certificate.revoke") {
		if strings.Contains(e.Detail, "bulk revoke") {
			revokes++
		}
	}
	if revokes != 3 {
		t.Errorf("audited %d bulk revocations", revokes)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestScanDiscoversTLSEndpoints scans TLS servers on loopback by
// host:port and by CIDR range.
func TestScanDiscoversTLSEndpoints(t *testing.T) {
	srv, tok := startPKI(t, platformtest.Options{})
	own := issue(t, srv, tok, certs.IssueRequest{CommonName: "own.example.test"})
	pemOut := mustDo(t, srv, "POST", "/api/v1/certs/certificates/"+own.Serial+"/export", tok, nil, http.StatusOK).Body
	pair, err := tls.X509KeyPair(pemOut, pemOut)
	if err != nil {
		t.Fatal(err)
	}
	ours := httptest.NewUnstartedServer(http.NotFoundHandler())
	ours.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	ours.StartTLS()
	defer ours.Close()
	foreign := httptest.NewTLSServer(http.NotFoundHandler()) // Go's self-signed test certificate
	defer foreign.Close()
	oursAddr, foreignAddr := ours.Listener.Addr().String(), foreign.Listener.Addr().String()
	closed := freePort(t)
	_, foreignPort, _ := strings.Cut(foreignAddr, "127.0.0.1:")
	fp, _ := strconv.Atoi(foreignPort)
	var res certs.ScanResponse
	mustDo(t, srv, "POST", "/api/v1/certs/scans", tok, certs.ScanAPIRequest{ScanRequest: certs.ScanRequest{
		Targets: []string{oursAddr, "127.0.0.1/32", "127.0.0.1:" + strconv.Itoa(closed)}, Ports: []int{fp}, Owner: "netops"}},
		http.StatusOK).JSON(t, &res)
	if res.Probed != 3 || res.Found != 2 {
		t.Fatalf("scan: %+v", res)
	}
	byEndpoint := map[string]certs.ScanResult{}
	for _, r := range res.Results {
		byEndpoint[r.Endpoint] = r
	}
	if r := byEndpoint[oursAddr]; r.New || r.CertID != own.ID {
		t.Errorf("our own certificate was not recognised: %+v", r)
	}
	if r := byEndpoint[foreignAddr]; !r.New || r.CertID == 0 {
		t.Errorf("the foreign certificate was not recorded: %+v", r)
	}
	found := listCerts(t, srv, tok, "source=discovered")
	if len(found) != 1 || found[0].Owner != "netops" {
		t.Fatalf("discovered: %+v", found)
	}
	var c certs.Certificate
	mustDo(t, srv, "GET", "/api/v1/certs/certificates/"+strconv.FormatInt(own.ID, 10), tok, nil, http.StatusOK).JSON(t, &c)
	if len(c.Endpoints) != 1 || c.Endpoints[0].Endpoint != oursAddr {
		t.Errorf("endpoints of our certificate: %+v", c.Endpoints)
	}
	mustDo(t, srv, "POST", "/api/v1/certs/scans", tok, certs.ScanAPIRequest{ScanRequest: certs.ScanRequest{Targets: []string{"10.0.0.0/8"}}}, http.StatusBadRequest)
	// Discovered certificates cannot be revoked here: Gaffer did not issue them.
	mustDo(t, srv, "POST", "/api/v1/certs/certificates/"+strconv.FormatInt(found[0].ID, 10)+"/revoke", tok, nil, http.StatusBadRequest)
}

// TestImportPEMBundle imports a leaf with its chain and a key block (which
// is skipped, never stored), on each database; a second import finds it
// there.
func TestImportPEMBundle(t *testing.T) { platformtest.EachBackend(t, importPEMBundle) }

func importPEMBundle(t *testing.T, backend platformtest.Backend) {
	srv, tok := startPKI(t, platformtest.Options{})
	c := issue(t, srv, tok, certs.IssueRequest{CommonName: "imp.example.test"})
	exported := string(mustDo(t, srv, "POST", "/api/v1/certs/certificates/"+c.Serial+"/export", tok, nil, http.StatusOK).Body)
	other, tok2 := startPKI(t, platformtest.Options{Backend: backend})
	var res certs.ImportResponse
	mustDo(t, other, "POST", "/api/v1/certs/import", tok2, certs.ImportRequest{PEM: "junk before\n" + exported, Owner: "imports", NotifyDays: []int{20}},
		http.StatusOK).JSON(t, &res)
	if len(res.Imported) != 1 || len(res.Skipped) != 1 || res.Imported[0].HasKey || res.Imported[0].Chain == "" || res.Imported[0].Source != "imported" {
		t.Fatalf("import: %+v", res)
	}
	mustDo(t, other, "POST", "/api/v1/certs/import", tok2, certs.ImportRequest{PEM: exported}, http.StatusOK).JSON(t, &res)
	if len(res.Existing) != 1 {
		t.Errorf("second import: %+v", res)
	}
	for _, bad := range []string{"", "no pem here", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"} {
		mustDo(t, other, "POST", "/api/v1/certs/import", tok2, certs.ImportRequest{PEM: bad}, http.StatusBadRequest)
	}
}

// TestScheduledScan discovers a loopback TLS server named in
// --certs-scan-targets without being asked: the periodic job runs at start.
func TestScheduledScan(t *testing.T) {
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	defer ts.Close()
	srv, tok := startPKI(t, platformtest.Options{Args: []string{"--certs-scan-targets", ts.Listener.Addr().String(), "--certs-scan-interval", "1h"}})
	waitFor(t, func() bool { return len(listCerts(t, srv, tok, "source=discovered")) == 1 })
	if e := auditEntries(t, srv, "certs.scan.complete"); len(e) == 0 || !strings.Contains(e[0].Detail, "found 1") {
		t.Errorf("scan not audited: %+v", e)
	}
}
