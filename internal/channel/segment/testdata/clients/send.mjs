// Sends a customer's day through the official Segment and RudderStack Node
// libraries, unchanged, to a Touchpoint server. Usage:
//   node send.mjs URL WRITE_KEY
// Exits non-zero if either library reports a delivery error.
import { Analytics } from '@segment/analytics-node'
import RudderAnalytics from '@rudderstack/rudder-sdk-node'

const [url, writeKey] = process.argv.slice(2)
let failed = false

const segment = new Analytics({ writeKey, host: url, flushAt: 3, flushInterval: 50, maxRetries: 0 })
segment.on('error', (err) => { failed = true; console.error('segment:', err?.reason ?? err) })
segment.page({ anonymousId: 'seg-anon-1', name: 'Checkout', properties: { path: '/checkout', url: url + '/checkout' },
  context: { campaign: { name: 'spring_print', source: 'print', medium: 'flyer' } } })
segment.identify({ anonymousId: 'seg-anon-1', userId: 'seg-user-1', traits: { name: 'Sally Segment', email: 'Sally@Example.com' } })
segment.track({ userId: 'seg-user-1', event: 'Order Completed', properties: { revenue: 499.99, currency: 'USD', order_id: 'o-1' } })
await segment.closeAndFlush({ timeout: 10000 })

const rudder = new RudderAnalytics(writeKey, { dataPlaneUrl: url, flushAt: 1, flushInterval: 50, retryCount: 0,
  errorHandler: (err) => { failed = true; console.error('rudder:', err?.message ?? err) } })
await new Promise((resolve) => rudder.identify({ userId: 'rudder-user-1', traits: { name: 'Rudi Rudder', phone: '+1 212 555 0123' } }, resolve))
await new Promise((resolve) => rudder.track({ userId: 'rudder-user-1', event: 'Product Viewed', properties: { sku: 'wm-7' } }, resolve))
await new Promise((resolve) => rudder.page({ userId: 'rudder-user-1', name: 'Delivery', properties: { path: '/help/delivery' } }, resolve))
await new Promise((resolve) => rudder.flush(resolve))

process.exit(failed ? 1 : 0)
