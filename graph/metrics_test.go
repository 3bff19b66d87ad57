package graph_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	. "fleetgate/internal/apitest"
	"fleetgate/internal/ratelimit"
)

// scrape reads s's /metrics, failing the test on any problem promtool's
// linter (promlint, what `promtool check metrics` runs) finds.
func scrape(t *testing.T, s *Server) string {
	t.Helper()
	resp := Must(http.Get(s.URL + "/metrics"))(t)
	defer resp.Body.Close()
	body := string(Must(io.ReadAll(resp.Body))(t))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: status %d", resp.StatusCode)
	}
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil || len(problems) > 0 {
		t.Fatalf("promlint: %v %v", err, problems)
	}
	return body
}

func wantSeries(t *testing.T, body string, series ...string) {
	t.Helper()
	for _, s := range series {
		if !strings.Contains(body, "\n"+s) {
			t.Errorf("no %s", s)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", body)
	}
}

// TestOperationMetrics: operations by name and result, errors by code,
// latency by operation, rate-limit refusals by limit, sign-ins by method
// and outcome, the database pool and every route; promlint finds nothing.
func TestOperationMetrics(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		deps := s.Deps
		deps.LoginPerNameAndIP = ratelimit.Throttle{Free: 1, Base: time.Minute, Max: time.Hour}
		s = ServeDeps(t, deps)
		s.SignUp(t, "alice")
		anon := s.Client("")
		Must(Login(ctx, anon, LoginInput{UsernameOrEmail: "alice", Password: Password}))(t)
		for range 2 {
			_, err := Login(ctx, anon, LoginInput{UsernameOrEmail: "alice", Password: "wrong password"})
			WantCode(t, err, "UNAUTHENTICATED")
		}
		_, err := Login(ctx, anon, LoginInput{UsernameOrEmail: "alice", Password: Password})
		WantCode(t, err, "RATE_LIMITED")
		s.PostWith(nil, `{"query":"{ __typename }"}`)
		s.PostWith(nil, `{"query":"{ me { passwordHash } }"}`)
		s.PostWith(nil, `{"query":"{ me "}`)
		Must(http.Get(s.URL + "/healthz"))(t).Body.Close()

		body := scrape(t, s)
		wantSeries(t, body,
			`fleetgate_graphql_operations_total{operation="SignUp",result="ok"} 1`,
			`fleetgate_graphql_operations_total{operation="Login",result="ok"} 1`,
			`fleetgate_graphql_operations_total{operation="Login",result="error"} 3`,
			`fleetgate_graphql_operations_total{operation="anonymous",result="ok"} 1`,
			`fleetgate_graphql_operations_total{operation="invalid",result="error"} 2`,
			`fleetgate_graphql_errors_total{code="UNAUTHENTICATED"} 2`,
			`fleetgate_graphql_errors_total{code="RATE_LIMITED"} 1`,
			`fleetgate_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"} 1`,
			`fleetgate_graphql_errors_total{code="GRAPHQL_PARSE_FAILED"} 1`,
			`fleetgate_graphql_operation_duration_seconds_count{operation="Login"} 4`,
			`fleetgate_rate_limit_refusals_total{limit="login_per_name_and_ip"} 1`,
			`fleetgate_sign_ins_total{method="password",outcome="success"} 1`,
			`fleetgate_sign_ins_total{method="password",outcome="failure"} 2`,
			`fleetgate_sign_ins_total{method="password",outcome="rate_limited"} 1`,
			`go_sql_open_connections{db_name="fleetgate"}`,
			`fleetgate_http_requests_total{code="200",route="healthz"} 1`,
			`fleetgate_http_requests_total{code="200",route="graphql"} 6`,
			`fleetgate_http_requests_total{code="422",route="graphql"} 2`,
		)
		// The scrape itself is counted by the next one.
		wantSeries(t, scrape(t, s), `fleetgate_http_requests_total{code="200",route="metrics"} 1`)
	})
}

// TestOperationNamesAreBounded: without METRICS_OPERATIONS the first 100
// names get series of their own and every later one is "other"; with it,
// only the names listed do.
func TestOperationNamesAreBounded(t *testing.T) {
	s := Start(t, Backends()[0])
	for i := range 102 {
		s.PostWith(nil, fmt.Sprintf(`{"query":"query Op%d { __typename }"}`, i))
	}
	long := strings.Repeat("N", 101)
	s.PostWith(nil, `{"query":"query `+long+` { __typename }"}`)
	body := scrape(t, s)
	wantSeries(t, body, `fleetgate_graphql_operations_total{operation="Op0",result="ok"} 1`,
		`fleetgate_graphql_operations_total{operation="Op99",result="ok"} 1`,
		`fleetgate_graphql_operations_total{operation="other",result="ok"} 3`)
	if strings.Contains(body, `operation="Op100"`) || strings.Contains(body, long) {
		t.Error("a name past the first 100 has a series of its own")
	}

	deps := s.Deps
	deps.MetricsOperations = []string{"Me", "Login"}
	listed := ServeDeps(t, deps)
	for _, name := range []string{"Me", "Op1", "Login"} {
		listed.PostWith(nil, `{"query":"query `+name+` { __typename }"}`)
	}
	body = scrape(t, listed)
	wantSeries(t, body, `fleetgate_graphql_operations_total{operation="Me",result="ok"} 1`,
		`fleetgate_graphql_operations_total{operation="Login",result="ok"} 1`,
		`fleetgate_graphql_operations_total{operation="other",result="ok"} 1`)
}

// TestSecondFactorSignInMetrics: a login owing the code, a wrong code, a
// right one and a recovery code are counted under their methods.
func TestSecondFactorSignInMetrics(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		s, c := withClock(t, s, time.Now())
		secret, codes, _ := enable(t, s, c, a.Token)
		anon := s.Client("")
		login := func() string {
			return Must(Login(ctx, anon, LoginInput{UsernameOrEmail: "alice", Password: Password}))(t).Login.Token
		}
		pending := login()
		wrong := "000000"
		if wrong == code(t, secret, c.Now()) {
			wrong = "111111"
		}
		_, err := VerifyTwoFactor(ctx, s.Client(pending), VerifyTwoFactorInput{Code: &wrong})
		WantCode(t, err, "BAD_USER_INPUT")
		c.Advance(time.Minute) // a step the pairing did not use
		right := code(t, secret, c.Now())
		Must(VerifyTwoFactor(ctx, s.Client(pending), VerifyTwoFactorInput{Code: &right}))(t)
		Must(VerifyTwoFactor(ctx, s.Client(login()), VerifyTwoFactorInput{RecoveryCode: &codes[0]}))(t)

		wantSeries(t, scrape(t, s),
			`fleetgate_sign_ins_total{method="password",outcome="second_factor_required"} 2`,
			`fleetgate_sign_ins_total{method="totp",outcome="failure"} 1`,
			`fleetgate_sign_ins_total{method="totp",outcome="success"} 1`,
			`fleetgate_sign_ins_total{method="recovery_code",outcome="success"} 1`,
		)
	})
}
