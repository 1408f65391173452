// Package httpapi is the toolkit every API capability of the fleet server
// is written with: the Route type a capability declares its endpoints with,
// the principal (who is calling, with which roles) that authentication puts
// in the request context, JSON request and response helpers, the mapping
// from errors to HTTP status codes, paging, and the OpenAPI document
// generated from the route table and the Go types it names.
//
// A capability never writes a status code by hand for a failure: it returns
// (or passes to Fail) an error, and Fail picks the status:
//
//	store.ErrNotFound (wrapped)  404
//	*ConflictError               409, with its message (e.g. the allowed next states)
//	*InputError                  400, naming the field
//	*TooLargeError               413, naming the limit
//	anything else                500; the error is logged, the client sees a generic message
//
// See the server package's documentation for how a capability registers
// its routes.
package httpapi
