// Package api serves the Docker Engine API over HTTP with echo v4.
//
// Handlers are thin: they bind and validate the request, make one call on a
// backend interface (backend.go), convert the result to Docker's wire types
// (convert_*.go, where API-version quirks live) and write it. Errors are
// returned, never written: errors.go holds the one mapping from the error
// classes of internal/errdefs to HTTP statuses, and the echo error handler is
// the only writer of error bodies.
//
// Every path may carry a /vX.Y prefix; middleware.go strips it, checks the
// version against [MinVersion, MaxVersion] and stores it in the request
// context (see apiVersion).
package api
