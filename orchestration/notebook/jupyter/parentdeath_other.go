//go:build !linux

package jupyter

import "syscall"

// dieWithParent does nothing where the kernel cannot ask for it; Close
// and Kill still end kernels.
func dieWithParent(*syscall.SysProcAttr) {}
