package jupyter

import "syscall"

// dieWithParent has the kernel killed when the process that started it
// dies, SIGKILL included, so no kernel outlives a killed server or worker.
func dieWithParent(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
