/* exitcode.h - the process exit codes every layer returns (0 ok), named once: the master and worker
 * hand them up to cli/, which returns them from main. */
#ifndef LOADCTL_EXITCODE_H
#define LOADCTL_EXITCODE_H

#define EXIT_USAGE 1       /* bad command line or scenario: fix the input */
#define EXIT_RUNTIME 2     /* the run could not be made or written */
#define EXIT_THRESHOLDS 99 /* the run was made and a threshold failed */

#endif
