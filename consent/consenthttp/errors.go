package consenthttp

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/tact-go/tact/consent"
)

// Errors. Those of the consent package pass through unchanged; [Status]
// maps both to HTTP statuses.
var (
	// ErrUnauthenticated: the host's Authenticator did not name a person.
	ErrUnauthenticated = errors.New("consenthttp: not signed in")
	// ErrBadRequest: a request the Centre cannot read (a malformed body,
	// an unknown field, a missing confirmation). The error is a
	// [*RequestError].
	ErrBadRequest = errors.New("consenthttp: bad request")
	// ErrUnsupportedMediaType: a body that is neither a form nor JSON.
	ErrUnsupportedMediaType = errors.New("consenthttp: unsupported media type")
	// ErrGPCConflict: the person asked to turn on a purpose their
	// browser's Global Privacy Control signal opts them out of, without
	// confirming it after being told. The error is a [*GPCConflictError].
	ErrGPCConflict = errors.New("consenthttp: Global Privacy Control conflict")
	// ErrNotOptional: the person asked to turn off a purpose that does not
	// rest on consent (a contract, a legal obligation). The error is a
	// [*ChoiceError].
	ErrNotOptional = errors.New("consenthttp: not a choice the person can make here")
	// ErrCrossOrigin: a state-changing request from another origin, refused
	// by the standard library's cross-origin protection.
	ErrCrossOrigin = errors.New("consenthttp: cross-origin request refused")
	// ErrConfig: [NewCentre] was given an incomplete configuration.
	ErrConfig = errors.New("consenthttp: invalid configuration")
)

// RequestError is an [ErrBadRequest] about one field of a request.
type RequestError struct {
	Field string // the form field or JSON member, "" for the body as a whole
	Why   string
}

func (e *RequestError) Error() string {
	if e.Field == "" {
		return "consenthttp: bad request: " + e.Why
	}
	return "consenthttp: bad request: " + e.Field + ": " + e.Why
}

// Unwrap returns ErrBadRequest.
func (e *RequestError) Unwrap() error { return ErrBadRequest }

// GPCConflictError is an [ErrGPCConflict]: the purposes the person asked to
// turn on that their browser's GPC signal opts them out of. Nothing was
// recorded. To turn them on anyway, the person confirms, after being told,
// and the request names them again as confirmed (form field confirm_gpc,
// JSON member confirm_gpc); the grants then carry
// [consent.Event].OverridesGPC.
type GPCConflictError struct {
	Purposes []consent.Purpose
}

func (e *GPCConflictError) Error() string {
	ps := make([]string, len(e.Purposes))
	for i, p := range e.Purposes {
		ps[i] = string(p)
	}
	return "consenthttp: Global Privacy Control opts the person out of " + strings.Join(ps, ", ") + "; turning it on needs their confirmation"
}

// Unwrap returns ErrGPCConflict.
func (e *GPCConflictError) Unwrap() error { return ErrGPCConflict }

// ChoiceError is an [ErrNotOptional] about one purpose.
type ChoiceError struct {
	Purpose consent.Purpose
	Why     string
}

func (e *ChoiceError) Error() string {
	return "consenthttp: " + string(e.Purpose) + ": " + e.Why
}

// Unwrap returns ErrNotOptional.
func (e *ChoiceError) Unwrap() error { return ErrNotOptional }

// Status returns the HTTP status for an error of the Centre, the consent
// package or the standard library's request handling: 401 for
// [ErrUnauthenticated]; 400 for a bad request, an unknown or malformed
// purpose or an invalid event; 403 for [ErrCrossOrigin]; 409 for a GPC
// conflict, a choice that is not optional and an event out of time order;
// 413 for a body over the limit; 415 for [ErrUnsupportedMediaType]; 503
// for a store that lost too many races ([consent.ErrConflict]) or a
// context that ended; 500 for anything else (a tampered ledger, a store
// failure). Hosts that write their own handlers around the Gate can use it
// too.
func Status(err error) int {
	var mb *http.MaxBytesError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, ErrCrossOrigin):
		return http.StatusForbidden
	case errors.As(err, &mb):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrUnsupportedMediaType):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, ErrGPCConflict), errors.Is(err, ErrNotOptional), errors.Is(err, consent.ErrOutOfOrder):
		return http.StatusConflict
	case errors.Is(err, ErrBadRequest), errors.Is(err, consent.ErrUnknownPurpose), errors.Is(err, consent.ErrMalformedKey),
		errors.Is(err, consent.ErrInvalidEvent), errors.Is(err, consent.ErrInvalidSignals):
		return http.StatusBadRequest
	case errors.Is(err, consent.ErrConflict), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// code returns the short error code the default error response carries.
func code(err error) string {
	switch Status(err) {
	case http.StatusUnauthorized:
		return "unauthenticated"
	case http.StatusForbidden:
		return "cross_origin"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusConflict:
		switch {
		case errors.Is(err, ErrGPCConflict):
			return "gpc_conflict"
		case errors.Is(err, ErrNotOptional):
			return "not_optional"
		}
		return "out_of_order"
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	return "internal"
}
