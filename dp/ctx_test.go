package dp_test

import "context"

var ctx = context.Background()
