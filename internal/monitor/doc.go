// Package monitor provides voiceorder's runtime monitoring. Metrics holds the
// gateway's Prometheus collectors. A Sampler watches goroutines, open file
// descriptors and the live heap for growth that means a leak, and raises
// alerts as a log line, a counter, a status entry and an optional webhook.
// Two admin handlers serve the sampler's status and force a garbage
// collection.
//
// Hot paths use pre-bound collectors. Transport returns the counters of one
// transport once per conversation, and a frame is then counted with one
// atomic add and no allocation.
//
// Every label value that can come from outside (model error codes, tool
// names) is bounded: values outside an allow-list or beyond a fixed number of
// distinct values are counted as "other". A Prometheus registry keeps every
// series it has seen for the life of the process, so unbounded label values
// would be a leak of their own.
//
// The package starts no goroutine by itself. The owner runs Sampler.Run and
// cancels its context to stop it. The package does not serve HTTP routes,
// decide readiness or page anyone; the app mounts the handlers, and the
// webhook receiver decides who hears about an alert.
package monitor
