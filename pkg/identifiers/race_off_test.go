//go:build !race

package identifiers

const raceBuild = false
