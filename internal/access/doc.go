// Package access decides who may do what: the catalogue of actions, access
// policies (statements of allow or deny over actions and resources, with
// conditions), the built-in roles and separation-of-duties constraints.
//
// Evaluate is the one authorisation function. It is pure: it reads only its
// arguments, so every interface (REST today, KMIP and others later) gets the
// same answer for the same request, and the access matrix is computed by the
// same code that enforces it. Default deny; an explicit deny wins over any
// allow.
package access
