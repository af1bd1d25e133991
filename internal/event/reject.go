package event

import (
	"errors"
	"fmt"
)

// Reason classifies why a message was rejected. Its values are bounded and
// are used as the `reason` label of the rejection metrics and as the reason
// of a dead-letter record.
type Reason string

// Rejection reasons, one for each rule of the contract's "Bad input" section.
const (
	// ReasonTooLarge: the message is larger than the configured limit.
	ReasonTooLarge Reason = "too_large"
	// ReasonInvalidJSON: not valid UTF-8 JSON, or not a JSON object.
	ReasonInvalidJSON Reason = "invalid_json"
	// ReasonMissingField: a field the event type requires is absent or empty.
	ReasonMissingField Reason = "missing_field"
	// ReasonUnknownType: `type` is not a type of the contract.
	ReasonUnknownType Reason = "unknown_type"
	// ReasonInvalidEnum: an enumerated field holds a value outside its set.
	ReasonInvalidEnum Reason = "invalid_enum"
	// ReasonInvalidTimestamp: `ts` or `deadline` is not RFC 3339 with an offset.
	ReasonInvalidTimestamp Reason = "invalid_ts"
	// ReasonInvalidField: a field has the wrong JSON type or an impossible
	// value (an over-long event_id, a bad time_limit, an unknown version).
	ReasonInvalidField Reason = "invalid_field"
)

// Reasons lists every rejection reason, for metrics pre-initialisation.
func Reasons() []Reason {
	return []Reason{ReasonTooLarge, ReasonInvalidJSON, ReasonMissingField, ReasonUnknownType,
		ReasonInvalidEnum, ReasonInvalidTimestamp, ReasonInvalidField}
}

// RejectError is the error the decoder returns for bad input. Its message
// names the field and the problem but never repeats personal data.
type RejectError struct {
	Reason Reason
	Field  string // the offending field, "" for whole-message problems
	Detail string
}

// Error implements error.
func (e *RejectError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.Reason, e.Detail)
	}
	return fmt.Sprintf("%s: field %q: %s", e.Reason, e.Field, e.Detail)
}

// ReasonOf returns the rejection reason carried by err, or "" if err is not
// a rejection.
func ReasonOf(err error) Reason {
	var re *RejectError
	if errors.As(err, &re) {
		return re.Reason
	}
	return ""
}

func reject(r Reason, field, format string, args ...any) *RejectError {
	return &RejectError{Reason: r, Field: field, Detail: fmt.Sprintf(format, args...)}
}
