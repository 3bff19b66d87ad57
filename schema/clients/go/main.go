// Command go is an example fleetgate client on the genqlient client of
// fleetgate_gen.go: it signs in, shows the account and lists every
// application the user has a role on, page by page.
//
//	go run ./schema/clients/go -endpoint http://127.0.0.1:8080/graphql -user alice -password '…'
package main

//go:generate go run github.com/Khan/genqlient

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/Khan/genqlient/graphql"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:8080/graphql", "the fleetgate API")
	user := flag.String("user", "", "username or email address")
	password := flag.String("password", "", "password")
	pageSize := flag.Int("page", 50, "applications a page, 1–100")
	flag.Parse()
	if err := run(context.Background(), *endpoint, *user, *password, *pageSize, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, endpoint, user, password string, pageSize int, out io.Writer) error {
	signedIn, err := Login(ctx, graphql.NewClient(endpoint, http.DefaultClient), LoginInput{UsernameOrEmail: user, Password: password})
	if err != nil {
		return err
	}
	if signedIn.Login.TwoFactorRequired {
		return errors.New("this account owes a second factor: call verifyTwoFactor with the token")
	}
	client := graphql.NewClient(endpoint, &http.Client{Transport: bearer(signedIn.Login.Token)})

	me, err := Me(ctx, client)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s (id %s), since %s\n", me.Me.Username, me.Me.Id, me.Me.CreatedAt.Format(time.DateOnly))

	// A nil cursor is the first page; each next one starts at endCursor.
	var after *string
	for {
		page, err := Applications(ctx, client, &pageSize, after)
		if err != nil {
			return err
		}
		for _, edge := range page.Applications.Edges {
			if edge == nil || edge.Node == nil {
				continue
			}
			fmt.Fprintf(out, "%s\t%s\n", edge.Node.Slug, edge.Node.MyRole)
		}
		if !page.Applications.PageInfo.HasNextPage {
			return nil
		}
		after = page.Applications.PageInfo.EndCursor
	}
}

// bearer sends the session token (or an API key) as Authorization: Bearer.
type bearer string

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}
