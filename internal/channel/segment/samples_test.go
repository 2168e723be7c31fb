package segment

import (
	"bytes"
	"fmt"
	"strings"
)

// Payloads shaped like those of the client libraries, for tests, fuzz seeds
// and benchmarks.

// BrowserTrack is a track call as analytics.js (analytics-next) sends it to /v1/t.
func BrowserTrack(i int) string {
	return fmt.Sprintf(`{"timestamp":"2024-05-01T12:34:56.789Z","integrations":{},"type":"track",`+
		`"properties":{"plan":"Pro","price":49.99,"features":["sso","audit"]},"event":"Plan Selected",`+
		`"messageId":"ajs-next-1714566896789-6c1f0f0e-4e5b-4d3a-9f1e-%012d","anonymousId":"5f8e2b1c-7a3d-4c9e-b6f0-%012d",`+
		`"userId":"user-%d","context":{"page":{"path":"/pricing","referrer":"https://www.google.com/",`+
		`"search":"?utm_source=google&utm_medium=cpc","title":"Pricing \u2013 Example","url":"https://www.example.com/pricing?utm_source=google&utm_medium=cpc"},`+
		`"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",`+
		`"userAgentData":{"brands":[{"brand":"Chromium","version":"124"},{"brand":"Google Chrome","version":"124"},{"brand":"Not-A.Brand","version":"99"}],"mobile":false,"platform":"macOS"},`+
		`"locale":"en-US","library":{"name":"analytics.js","version":"npm:next-1.70.0"},"timezone":"Europe/Berlin",`+
		`"campaign":{"source":"google","medium":"cpc","name":"spring_sale"}},`+
		`"sentAt":"2024-05-01T12:34:57.012Z","_metadata":{"bundled":["Segment.io"],"unbundled":[],"bundledIds":[]},"writeKey":"wk_browser"}`,
		i, i, i)
}

// BrowserPage is a page call as analytics.js sends it to /v1/p.
func BrowserPage(i int) string {
	return fmt.Sprintf(`{"timestamp":"2024-05-01T12:34:50.001Z","integrations":{},"type":"page","properties":{"path":"/pricing",`+
		`"referrer":"","search":"","title":"Pricing","url":"https://www.example.com/pricing"},"name":"Pricing","category":"Docs",`+
		`"context":{"page":{"path":"/pricing","referrer":"","search":"","title":"Pricing","url":"https://www.example.com/pricing"},`+
		`"userAgent":"Mozilla/5.0","locale":"de-DE","library":{"name":"analytics.js","version":"npm:next-1.70.0"},"timezone":"Europe/Berlin"},`+
		`"messageId":"ajs-next-page-%d","anonymousId":"anon-%d","writeKey":"wk_browser","sentAt":"2024-05-01T12:34:50.100Z"}`, i, i)
}

// NodeTrack is an item of an analytics-node batch.
func NodeTrack(i int) string {
	return fmt.Sprintf(`{"type":"track","event":"Order Completed","userId":"%d","properties":{"order_id":"o-%d",`+
		`"total":30.5,"revenue":25,"currency":"EUR","coupon":"SPRING10","products":[{"product_id":"p1","price":25,"quantity":1}]},`+
		`"context":{"library":{"name":"@segment/analytics-node","version":"2.1.0"}},"messageId":"node-next-1714566896789-%d",`+
		`"timestamp":"2024-05-01T12:30:00.000Z","_metadata":{"nodeVersion":"20.11.0","jsRuntime":"node"}}`, 1000+i, i, i)
}

// NodeIdentify is an identify item of an analytics-node batch.
func NodeIdentify(i int) string {
	return fmt.Sprintf(`{"type":"identify","userId":"%d","traits":{"email":"Person%d@Example.com","name":"Person %d","plan":"pro"},`+
		`"context":{"library":{"name":"@segment/analytics-node","version":"2.1.0"}},"messageId":"node-identify-%d",`+
		`"timestamp":"2024-05-01T12:29:00.000Z"}`, 1000+i, i, i, i)
}

// MobileScreen is a screen call from the Kotlin/Swift libraries.
func MobileScreen(i int) string {
	return fmt.Sprintf(`{"type":"screen","name":"Checkout","properties":{"step":2},"anonymousId":"A1B2C3D4-%08d",`+
		`"messageId":"mobile-%d","originalTimestamp":"2024-05-01T12:00:00.000Z","sentAt":"2024-05-01T12:00:05.000Z",`+
		`"context":{"app":{"name":"Shop","version":"3.2.1","build":"321"},"device":{"id":"dev-%d","advertisingId":"ad-%d",`+
		`"manufacturer":"Apple","model":"iPhone15,2","type":"ios"},"os":{"name":"iOS","version":"17.4"},`+
		`"network":{"wifi":true},"screen":{"width":393,"height":852},"library":{"name":"analytics-swift","version":"1.5.0"},`+
		`"externalIds":[{"id":"crm-%d","type":"crm_id","collection":"users","encoding":"none"}]},"integrations":{}}`, i, i, i, i, i)
}

// BrowserBatch is a body for /v1/batch of n browser track calls, as
// analytics.js's batching dispatcher sends it.
func BrowserBatch(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"batch":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(BrowserTrack(i))
	}
	b.WriteString(`],"sentAt":"2024-05-01T12:34:57.100Z","writeKey":"wk_browser"}`)
	return b.Bytes()
}

// NodeBatch is a body for /v1/batch as analytics-node sends it.
func NodeBatch(n int) []byte {
	items := make([]string, n)
	for i := range items {
		if i%4 == 0 {
			items[i] = NodeIdentify(i)
		} else {
			items[i] = NodeTrack(i)
		}
	}
	return []byte(`{"batch":[` + strings.Join(items, ",") + `],"timestamp":"2024-05-01T12:30:01.000Z","sentAt":"2024-05-01T12:30:01.000Z"}`)
}
