package alerting

import (
	"encoding/json"
	"testing"
)

// TestNotificationCarriesLabelsAtTheTop checks the alert event's data: the
// group's common labels at the top level beside Alertmanager's payload,
// which keeps its own fields when a label has the same name.
func TestNotificationCarriesLabelsAtTheTop(t *testing.T) {
	b, err := encodeNotification(webhookData{Version: "4", Status: "firing",
		CommonLabels: map[string]string{"alertname": "ApiLatencyHigh", "severity": "critical", "status": "label"}})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["alertname"] != "ApiLatencyHigh" || got["severity"] != "critical" {
		t.Errorf("labels not at the top: %s", b)
	}
	if got["status"] != "firing" || got["version"] != "4" {
		t.Errorf("a label replaced a payload field: %s", b)
	}
	common, _ := got["commonLabels"].(map[string]any)
	if common["status"] != "label" || common["severity"] != "critical" {
		t.Errorf("commonLabels changed: %s", b)
	}
}
