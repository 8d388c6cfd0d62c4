package certs_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/security/certs"
)

// TestGafferACMEClientObtainsFromGafferACMEServer makes an external ACME
// authority of Gaffer's own ACME server (over HTTPS, trusting its root),
// obtains a certificate through it over http-01, rotates it and revokes
// it at the ACME server.
func TestGafferACMEClientObtainsFromGafferACMEServer(t *testing.T) {
	platformtest.EachBackend(t, gafferACMEClientObtainsFromGafferACMEServer)
}

func gafferACMEClientObtainsFromGafferACMEServer(t *testing.T, backend platformtest.Backend) {
	o := platformtest.Options{Backend: backend}
	srv, tok, port := acmePKI(t, o)
	front, _ := tlsFront(t, srv, tok)
	var root certs.Authority
	mustDo(t, srv, "GET", "/api/v1/certs/authorities/root", tok, nil, http.StatusOK).JSON(t, &root)
	eab := createEABKey(t, srv, "issuing")
	mustDo(t, srv, "POST", "/api/v1/certs/authorities", tok, certs.CreateAuthorityRequest{Name: "upstream", Kind: "acme",
		Policy: certs.Policy{AllowedDomains: []string{".example.test"}},
		ACME: &certs.ACMEIssuerConfig{DirectoryURL: front + "/api/v1/certs/acme/issuing/directory", Email: "ops@example.test",
			HTTPAddress: "127.0.0.1:" + strconv.Itoa(port), CABundle: root.Certificate,
			EABKeyID: eab.ID, EABHMACKey: eab.HMACKey}}, http.StatusCreated)
	if body := mustDo(t, srv, "GET", "/api/v1/certs/authorities/upstream", tok, nil, http.StatusOK).Body; strings.Contains(string(body), eab.HMACKey) {
		t.Errorf("the ACME authority keeps the EAB HMAC key: %s", body)
	}
	mustDo(t, srv, "POST", "/api/v1/certs/authorities", tok, certs.CreateAuthorityRequest{Name: "half-eab", Kind: "acme",
		ACME: &certs.ACMEIssuerConfig{DirectoryURL: front + "/api/v1/certs/acme/issuing/directory", EABKeyID: eab.ID}}, http.StatusBadRequest)
	c := issue(t, srv, tok, certs.IssueRequest{Authority: "upstream", CommonName: "svc.example.test", SANs: []string{"api.example.test"}, Owner: "team-a"})
	if c.Source != "acme" || !c.HasKey || c.Issuer != "CN=Gaffer Test Issuing CA" || len(c.Names) != 2 {
		t.Fatalf("certificate from ACME: %+v", c)
	}
	// The upstream (the same server's issuing CA) knows it too.
	var issued certs.ListResponse
	mustDo(t, srv, "GET", "/api/v1/certs/certificates?authority=issuing&domain=svc.example.test", tok, nil, http.StatusOK).JSON(t, &issued)
	if len(issued.Items) != 1 || issued.Items[0].Serial != c.Serial {
		t.Fatalf("the ACME server's inventory lacks %s: %+v", c.Serial, issued.Items)
	}
	var rot certs.RotateResponse
	mustDo(t, srv, "POST", "/api/v1/certs/rotate", tok, certs.RotateRequest{Certificates: []string{strconv.FormatInt(c.ID, 10)}}, http.StatusOK).JSON(t, &rot)
	if len(rot.Rotated) != 1 || rot.Rotated[0].New.Source != "acme" || *rot.Rotated[0].New.Replaces != c.ID {
		t.Fatalf("rotation through ACME: %+v", rot)
	}
	mustDo(t, srv, "POST", "/api/v1/certs/certificates/"+strconv.FormatInt(c.ID, 10)+"/revoke", tok, certs.RevokeRequest{Reason: "superseded"}, http.StatusOK)
	var up certs.Certificate
	mustDo(t, srv, "GET", "/api/v1/certs/certificates/"+strconv.FormatInt(issued.Items[0].ID, 10), tok, nil, http.StatusOK).JSON(t, &up)
	if up.Status != "revoked" || up.RevocationReason != "superseded" {
		t.Errorf("the ACME server did not revoke %s: %s %s", up.Serial, up.Status, up.RevocationReason)
	}
}

// memoryDNS is a DNSProvider and a DNS server on loopback in one: records
// Gaffer's ACME client presents are answered to the ACME server.
type memoryDNS struct {
	mu  sync.Mutex
	txt map[string][]string
}

func (m *memoryDNS) Present(_ context.Context, fqdn, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.txt[strings.ToLower(fqdn)] = append(m.txt[strings.ToLower(fqdn)], value)
	return nil
}

func (m *memoryDNS) CleanUp(_ context.Context, fqdn, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.txt, strings.ToLower(fqdn))
	return nil
}

func (m *memoryDNS) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	resp := new(dns.Msg)
	resp.SetReply(r)
	resp.Authoritative = true
	for _, q := range r.Question {
		name := strings.ToLower(q.Name)
		switch q.Qtype {
		case dns.TypeTXT:
			m.mu.Lock()
			for _, v := range m.txt[name] {
				resp.Answer = append(resp.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 1}, Txt: []string{v}})
			}
			m.mu.Unlock()
		case dns.TypeSOA:
			if name == "example.test." {
				resp.Answer = append(resp.Answer, &dns.SOA{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
					Ns: "ns.example.test.", Mbox: "ops.example.test.", Serial: 1, Refresh: 60, Retry: 60, Expire: 60, Minttl: 1})
			}
		}
	}
	w.WriteMsg(resp)
}

// TestGafferACMEClientDNS01 obtains a wildcard certificate through dns-01:
// Gaffer's ACME client publishes the TXT record through a DNSProvider,
// and Gaffer's ACME server reads it from a DNS server on loopback.
func TestGafferACMEClientDNS01(t *testing.T) {
	mem := &memoryDNS{txt: map[string][]string{}}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dnsSrv := &dns.Server{PacketConn: pc, Handler: mem}
	go dnsSrv.ActivateAndServe()
	t.Cleanup(func() { dnsSrv.Shutdown() })
	resolver := pc.LocalAddr().String()
	certs.RegisterDNSProvider("test-memory", mem)
	srv, tok := startPKI(t, platformtest.Options{Args: []string{"--certs-acme-dns-resolver", resolver}})
	front, _ := tlsFront(t, srv, tok)
	var root certs.Authority
	mustDo(t, srv, "GET", "/api/v1/certs/authorities/root", tok, nil, http.StatusOK).JSON(t, &root)
	eab := createEABKey(t, srv, "issuing")
	mustDo(t, srv, "POST", "/api/v1/certs/authorities", tok, certs.CreateAuthorityRequest{Name: "upstream-dns", Kind: "acme",
		Policy: certs.Policy{AllowedDomains: []string{".example.test", "example.test"}, AllowWildcards: true},
		ACME: &certs.ACMEIssuerConfig{DirectoryURL: front + "/api/v1/certs/acme/issuing/directory", Challenge: "dns-01",
			DNSProvider: "test-memory", DNSResolvers: []string{resolver}, CABundle: root.Certificate,
			EABKeyID: eab.ID, EABHMACKey: eab.HMACKey}}, http.StatusCreated)
	c := issue(t, srv, tok, certs.IssueRequest{Authority: "upstream-dns", CommonName: "example.test", SANs: []string{"*.example.test"}})
	if c.Source != "acme" || len(c.Names) != 2 || c.Names[1] != "*.example.test" {
		t.Fatalf("wildcard through dns-01: %+v", c.Names)
	}
	if len(mem.txt) != 0 {
		t.Errorf("TXT records left after the challenge: %v", mem.txt)
	}
}
