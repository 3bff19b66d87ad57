package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"fleetgate/internal/clock"
)

// OutboxMail is one outgoing mail, written in the transaction of the change
// it tells of and sent later by a worker of internal/mail (README
// "Passwords, mail and the account"). A row is waiting while sent_at and
// failed_at are both unset; a worker holds it while lease_until is ahead.
type OutboxMail struct{ ent.Schema }

func (OutboxMail) Fields() []ent.Field {
	return []ent.Field{
		// Named so, not "to": that is a reserved word in SQL.
		field.String("recipient").Immutable(),
		field.String("subject").Immutable(),
		// Bodies carry reset links.
		field.Text("text").Immutable().Sensitive(),
		field.Text("html").Default("").Immutable().Sensitive(),
		field.Int("attempts").Default(0),
		field.Time("next_attempt_at"),
		field.String("lease_owner").Default(""),
		field.Time("lease_until").Optional().Nillable(),
		field.Time("sent_at").Optional().Nillable(),
		field.Time("failed_at").Optional().Nillable(),
		field.Text("last_error").Default(""),
		field.Time("created_at").Default(clock.Now).Immutable(),
	}
}

func (OutboxMail) Indexes() []ent.Index {
	return []ent.Index{
		// The worker's claim: waiting rows that are due.
		index.Fields("sent_at", "failed_at", "next_attempt_at"),
		// The cleanup of failed rows (sent ones use the index above).
		index.Fields("failed_at"),
	}
}

func (OutboxMail) Annotations() []schema.Annotation { return []schema.Annotation{hidden()} }
