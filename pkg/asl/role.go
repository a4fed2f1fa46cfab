package asl

import "context"

// A state machine acts as its execution role: the Invoker and the
// ItemReader's S3Client find the role an execution runs as in the context
// of every call the interpreter makes for it, as AWS signs those calls with
// the role's credentials.
type roleKey struct{}

// WithRole returns ctx carrying the execution role roleARN.
func WithRole(ctx context.Context, roleARN string) context.Context {
	return context.WithValue(ctx, roleKey{}, roleARN)
}

// RoleARN returns the execution role ctx carries, or "" for none.
func RoleARN(ctx context.Context) string {
	s, _ := ctx.Value(roleKey{}).(string)
	return s
}
