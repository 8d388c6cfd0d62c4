package metrics

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"mime"
	"net/http"

	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
)

// otlpRoute is OTLP/HTTP's metrics endpoint, guarded and audited like
// remote write.
func (s *Service) otlpRoute() httpapi.Route {
	return httpapi.Route{Method: "POST", Path: "/v1/metrics", Scope: WriteScope, Action: "metrics.otlp.write", AuditSummary: true,
		Summary: "OpenTelemetry metrics over HTTP (OTLP ExportMetricsServiceRequest, protobuf or JSON, optionally gzip), named as Prometheus 3 names them",
		Handler: s.serveOTLP}
}

// Content types of OTLP/HTTP.
const (
	otlpProtobuf = "application/x-protobuf"
	otlpJSON     = "application/json"
)

// serveOTLP decodes an OTLP metrics request, converts it (see
// convertOTLP) and stores the result with the remote-write rules. The
// answer is OTLP's ExportMetricsServiceResponse in the request's
// encoding, with a partial success naming what was not stored.
func (s *Service) serveOTLP(w http.ResponseWriter, r *http.Request) error {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != otlpProtobuf && ct != otlpJSON {
		return httpapi.Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"Content-Type: want %s or %s, got %q", otlpProtobuf, otlpJSON, r.Header.Get("Content-Type"))
	}
	body, err := s.readOTLPBody(r)
	if err != nil {
		return err
	}
	req := pmetricotlp.NewExportRequest()
	if ct == otlpJSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		return httpapi.BadRequest("body: not an OTLP ExportMetricsServiceRequest in %s: %v", ct, err)
	}
	conv := convertOTLP(req.Metrics())
	res, err := prom.StoreLimited(s.storage, conv.Series, prom.NewSeriesError{
		Max: s.set.WriteLimits.MaxNewSeriesPerRequest, Limit: "metrics-write-max-new-series-per-request"})
	if err != nil {
		return prom.WriteError(err)
	}
	resp := pmetricotlp.NewExportResponse()
	if rejected := conv.Rejected + int64(res.Refused); rejected > 0 {
		reasons := conv.Reasons
		if res.Refused > 0 {
			reasons = append(reasons, res.Err().Error())
		}
		resp.PartialSuccess().SetRejectedDataPoints(rejected)
		resp.PartialSuccess().SetErrorMessage(otlpReasons(reasons))
	}
	var out []byte
	if ct == otlpJSON {
		out, err = resp.MarshalJSON()
	} else {
		out, err = resp.MarshalProto()
	}
	if err != nil {
		return fmt.Errorf("encode the OTLP response: %w", err)
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(out)
	return err
}

// readOTLPBody reads the body, gunzipped if it says so, up to
// --metrics-write-max-request-bytes either way.
func (s *Service) readOTLPBody(r *http.Request) ([]byte, error) {
	max := int64(s.set.WriteLimits.MaxRequestBytes)
	var src io.Reader = r.Body
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(io.LimitReader(r.Body, max+1))
		if err != nil {
			return nil, httpapi.BadRequest("body: gzip: %v", err)
		}
		defer zr.Close()
		src = zr
	default:
		return nil, httpapi.Errorf(http.StatusUnsupportedMediaType, "unsupported_encoding", "Content-Encoding: want gzip or none, got %q", enc)
	}
	var b bytes.Buffer
	n, err := b.ReadFrom(io.LimitReader(src, max+1))
	if err != nil {
		return nil, httpapi.BadRequest("body: read: %v", err)
	}
	if n > max {
		return nil, httpapi.Errorf(http.StatusRequestEntityTooLarge, "too_large",
			"body: larger than %d bytes (limit: --metrics-write-max-request-bytes)", max)
	}
	return b.Bytes(), nil
}
