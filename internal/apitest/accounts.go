package apitest

import (
	"context"
	"testing"
)

// Password is the password test accounts sign up with.
const Password = "correct horse battery staple"

// Account is a signed-up user.
type Account struct {
	ID, Username, Email, Token string
}

// SignUp creates the account username (email username@example.com).
func (s *Server) SignUp(t testing.TB, username string) Account {
	t.Helper()
	email := username + "@example.com"
	resp, err := SignUp(context.Background(), s.Client(""), SignUpInput{Username: username, Email: email, Password: Password})
	if err != nil {
		t.Fatalf("sign up %s: %v", username, err)
	}
	return Account{ID: resp.SignUp.User.Id, Username: username, Email: email, Token: resp.SignUp.Token}
}
