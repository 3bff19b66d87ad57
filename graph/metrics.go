package graph

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"fleetgate/graph/model"
	"fleetgate/internal/auth"
	"fleetgate/internal/fault"
)

// metrics are the Prometheus metrics of one handler, in a registry of its
// own (no global state); README "Operating" lists them. Every label takes a
// bounded set of values: routes and codes are ours, operation names are
// folded by operationNames, sign-in methods are the configured providers.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	operations        *operationNames
	graphqlRequests   *prometheus.CounterVec
	graphqlErrors     *prometheus.CounterVec
	graphqlDuration   *prometheus.HistogramVec
	rateLimitRefusals *prometheus.CounterVec
	signIns           *prometheus.CounterVec
}

func newMetrics(d Deps) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fleetgate_http_requests_total",
			Help: "HTTP requests served, by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fleetgate_http_request_duration_seconds",
			Help:    "How long HTTP requests took, by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		operations: newOperationNames(d.MetricsOperations),
		graphqlRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fleetgate_graphql_operations_total",
			Help: "GraphQL operations answered, by operation name and result (ok, or error when the answer has errors).",
		}, []string{"operation", "result"}),
		graphqlErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fleetgate_graphql_errors_total",
			Help: "GraphQL errors answered, by extensions.code.",
		}, []string{"code"}),
		graphqlDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fleetgate_graphql_operation_duration_seconds",
			Help:    "How long GraphQL operations took from reading to answer, by operation name.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation"}),
		rateLimitRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fleetgate_rate_limit_refusals_total",
			Help: "Attempts refused by an abuse limit, by limit.",
		}, []string{"limit"}),
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fleetgate_sign_ins_total",
			Help: "Sign-in attempts, by method and outcome.",
		}, []string{"method", "outcome"}),
	}
	m.registry.MustRegister(m.requests, m.duration, m.graphqlRequests, m.graphqlErrors, m.graphqlDuration,
		m.rateLimitRefusals, m.signIns,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if c, ok := d.Mail.(prometheus.Collector); ok { // the mail outbox's (internal/mail)
		m.registry.MustRegister(c)
	}
	if d.SQL != nil {
		m.registry.MustRegister(collectors.NewDBStatsCollector(d.SQL, "fleetgate"))
	}
	return m
}

// instrument counts and times the requests of one route.
func (m *metrics) instrument(route string, h http.Handler) http.Handler {
	labels := prometheus.Labels{"route": route}
	return promhttp.InstrumentHandlerCounter(m.requests.MustCurryWith(labels),
		promhttp.InstrumentHandlerDuration(m.duration.MustCurryWith(labels), h))
}

// handler serves the metrics in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// operation counts one answered GraphQL operation: name as operationOf
// tells it, parsed when the request got as far as an operation.
func (m *metrics) operation(name string, parsed bool, took time.Duration, errs []string) {
	label := m.operations.label(name, parsed)
	result := "ok"
	if len(errs) > 0 {
		result = "error"
	}
	m.graphqlRequests.WithLabelValues(label, result).Inc()
	m.graphqlDuration.WithLabelValues(label).Observe(took.Seconds())
	for _, code := range errs {
		m.graphqlErrors.WithLabelValues(code).Inc()
	}
}

// rateLimitRefused counts a refusal by the named limit
// (ratelimit.Limiter.CountRefusals).
func (m *metrics) rateLimitRefused(limit string) { m.rateLimitRefusals.WithLabelValues(limit).Inc() }

// Sign-in outcomes (fleetgate_sign_ins_total).
const (
	signInSuccess      = "success"
	signInSecondFactor = "second_factor_required" // the password was right; a code is owed
	signInFailure      = "failure"                // a wrong password, code or login code
	signInRateLimited  = "rate_limited"
	signInError        = "error" // anything else: invalid input, the database failing
)

// methodLoginCode is the method of a failed exchangeLoginCode, whose
// provider is unknown.
const methodLoginCode auth.Method = "login_code"

// signIn counts a sign-in by its method and outcome and answers it. A
// failure is counted under method, what was tried; a success under the
// method the session records (a social login's provider).
func (d Deps) signIn(method auth.Method) func(*auth.Session, error) (*model.AuthPayload, error) {
	return func(s *auth.Session, err error) (*model.AuthPayload, error) {
		outcome := signInSuccess
		switch f, isFault := fault.As(err); {
		case err == nil:
			method = s.Method
			if s.TwoFactorRequired {
				outcome = signInSecondFactor
			}
		case isFault && f.Code == fault.RateLimited:
			outcome = signInRateLimited
		case isFault && (f.Code == fault.Unauthenticated || f.Field == "code" || f.Field == "recoveryCode"):
			outcome = signInFailure
		default:
			outcome = signInError
		}
		d.metrics.signIns.WithLabelValues(string(method), outcome).Inc()
		return session(s, err)
	}
}

// operationNames folds operation names into a bounded set of labels:
// either the names of an allowlist (METRICS_OPERATIONS) or, without one,
// the first maxOperationNames distinct names this process answers. Any
// other name is "other"; an operation without a name is "anonymous", a
// request that never got as far as an operation (it did not parse, or
// named none of its document's) is "invalid".
type operationNames struct {
	fixed bool
	mu    sync.RWMutex
	known map[string]bool
}

const (
	maxOperationNames  = 100
	maxOperationLength = 100
)

func newOperationNames(allow []string) *operationNames {
	n := &operationNames{fixed: len(allow) > 0, known: map[string]bool{}}
	for _, name := range allow {
		n.known[name] = true
	}
	return n
}

func (n *operationNames) label(name string, parsed bool) string {
	switch {
	case !parsed:
		return "invalid"
	case name == "":
		return "anonymous"
	case len(name) > maxOperationLength:
		return "other"
	}
	n.mu.RLock()
	known := n.known[name]
	n.mu.RUnlock()
	if known {
		return name
	}
	if n.fixed {
		return "other"
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.known[name] && len(n.known) >= maxOperationNames {
		return "other"
	}
	n.known[name] = true
	return name
}
