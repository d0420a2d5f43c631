// Package errdefs defines the error classes the engine uses to say what went
// wrong, independent of transport. The API layer maps each class to an HTTP
// status in exactly one place (internal/api/errors.go).
//
// Errors are classified by wrapping: a class survives fmt.Errorf("...: %w", err)
// and the outermost class wins (containerd/errdefs.Resolve). The constructors
// below keep the original message, so Docker-identical texts such as
// "No such container: foo" reach the client unchanged.
package errdefs

import (
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
)

// Sentinels for use with %w when the exact message does not matter.
var (
	ErrNotFound         = cerrdefs.ErrNotFound
	ErrInvalidParameter = cerrdefs.ErrInvalidArgument
	ErrConflict         = cerrdefs.ErrConflict
	ErrAlreadyExists    = cerrdefs.ErrAlreadyExists
	ErrNotModified      = cerrdefs.ErrNotModified
	ErrUnauthorized     = cerrdefs.ErrUnauthenticated
	ErrForbidden        = cerrdefs.ErrPermissionDenied
	ErrNotImplemented   = cerrdefs.ErrNotImplemented
	ErrUnavailable      = cerrdefs.ErrUnavailable
)

// classed wraps an error with a class while keeping its message verbatim.
type classed struct {
	err   error
	class error
}

func (e classed) Error() string   { return e.err.Error() }
func (e classed) Unwrap() []error { return []error{e.class, e.err} }
func (e classed) Cause() error    { return e.err }
func wrap(class, err error) error {
	if err == nil {
		return nil
	}
	return classed{err: err, class: class}
}

// NotFound marks err as "no such object" (404).
func NotFound(err error) error { return wrap(ErrNotFound, err) }

// InvalidParameter marks err as a bad request (400).
func InvalidParameter(err error) error { return wrap(ErrInvalidParameter, err) }

// Conflict marks err as conflicting with the current state (409).
func Conflict(err error) error { return wrap(ErrConflict, err) }

// NotModified marks a request that changed nothing (304).
func NotModified(err error) error { return wrap(ErrNotModified, err) }

// Unauthorized marks failed authentication (401).
func Unauthorized(err error) error { return wrap(ErrUnauthorized, err) }

// Forbidden marks a refused operation (403).
func Forbidden(err error) error { return wrap(ErrForbidden, err) }

// NotImplemented marks a feature that does not exist yet (501).
func NotImplemented(err error) error { return wrap(ErrNotImplemented, err) }

// Unavailable marks a dependency that cannot be reached (503).
func Unavailable(err error) error { return wrap(ErrUnavailable, err) }

// Errorf is a shorthand for wrapping a formatted message with a class
// constructor, e.g. errdefs.Errorf(errdefs.NotFound, "No such image: %s", ref).
func Errorf(class func(error) error, format string, args ...any) error {
	return class(fmt.Errorf(format, args...))
}

// Class predicates, re-exported so callers need only this package.
var (
	IsNotFound         = cerrdefs.IsNotFound
	IsInvalidParameter = cerrdefs.IsInvalidArgument
	IsConflict         = cerrdefs.IsConflict
	IsNotModified      = cerrdefs.IsNotModified
)
