package abi

// Linux x86-64 errno values (include/uapi/asm-generic/errno-base.h and errno.h).
const (
	EPERM           Errno = 1       // operation not permitted
	ENOENT          Errno = 2       // no such file or directory
	ESRCH           Errno = 3       // no such process
	EINTR           Errno = 4       // interrupted system call
	EIO             Errno = 5       // input/output error
	ENXIO           Errno = 6       // no such device or address
	E2BIG           Errno = 7       // argument list too long
	ENOEXEC         Errno = 8       // exec format error
	EBADF           Errno = 9       // bad file descriptor
	ECHILD          Errno = 10      // no child processes
	EAGAIN          Errno = 11      // resource temporarily unavailable
	ENOMEM          Errno = 12      // cannot allocate memory
	EACCES          Errno = 13      // permission denied
	EFAULT          Errno = 14      // bad address
	ENOTBLK         Errno = 15      // block device required
	EBUSY           Errno = 16      // device or resource busy
	EEXIST          Errno = 17      // file exists
	EXDEV           Errno = 18      // invalid cross-device link
	ENODEV          Errno = 19      // no such device
	ENOTDIR         Errno = 20      // not a directory
	EISDIR          Errno = 21      // is a directory
	EINVAL          Errno = 22      // invalid argument
	ENFILE          Errno = 23      // too many open files in system
	EMFILE          Errno = 24      // too many open files
	ENOTTY          Errno = 25      // inappropriate ioctl for device
	ETXTBSY         Errno = 26      // text file busy
	EFBIG           Errno = 27      // file too large
	ENOSPC          Errno = 28      // no space left on device
	ESPIPE          Errno = 29      // illegal seek
	EROFS           Errno = 30      // read-only file system
	EMLINK          Errno = 31      // too many links
	EPIPE           Errno = 32      // broken pipe
	EDOM            Errno = 33      // numerical argument out of domain
	ERANGE          Errno = 34      // numerical result out of range
	EDEADLK         Errno = 35      // resource deadlock avoided
	ENAMETOOLONG    Errno = 36      // file name too long
	ENOLCK          Errno = 37      // no locks available
	ENOSYS          Errno = 38      // function not implemented
	ENOTEMPTY       Errno = 39      // directory not empty
	ELOOP           Errno = 40      // too many levels of symbolic links
	EWOULDBLOCK           = EAGAIN  // alias of EAGAIN
	ENOMSG          Errno = 42      // no message of desired type
	EIDRM           Errno = 43      // identifier removed
	ECHRNG          Errno = 44      // channel number out of range
	EL2NSYNC        Errno = 45      // level 2 not synchronized
	EL3HLT          Errno = 46      // level 3 halted
	EL3RST          Errno = 47      // level 3 reset
	ELNRNG          Errno = 48      // link number out of range
	EUNATCH         Errno = 49      // protocol driver not attached
	ENOCSI          Errno = 50      // no csi structure available
	EL2HLT          Errno = 51      // level 2 halted
	EBADE           Errno = 52      // invalid exchange
	EBADR           Errno = 53      // invalid request descriptor
	EXFULL          Errno = 54      // exchange full
	ENOANO          Errno = 55      // no anode
	EBADRQC         Errno = 56      // invalid request code
	EBADSLT         Errno = 57      // invalid slot
	EDEADLOCK             = EDEADLK // alias of EDEADLK
	EBFONT          Errno = 59      // bad font file format
	ENOSTR          Errno = 60      // device not a stream
	ENODATA         Errno = 61      // no data available
	ETIME           Errno = 62      // timer expired
	ENOSR           Errno = 63      // out of streams resources
	ENONET          Errno = 64      // machine is not on the network
	ENOPKG          Errno = 65      // package not installed
	EREMOTE         Errno = 66      // object is remote
	ENOLINK         Errno = 67      // link has been severed
	EADV            Errno = 68      // advertise error
	ESRMNT          Errno = 69      // srmount error
	ECOMM           Errno = 70      // communication error on send
	EPROTO          Errno = 71      // protocol error
	EMULTIHOP       Errno = 72      // multihop attempted
	EDOTDOT         Errno = 73      // rfs specific error
	EBADMSG         Errno = 74      // bad message
	EOVERFLOW       Errno = 75      // value too large for defined data type
	ENOTUNIQ        Errno = 76      // name not unique on network
	EBADFD          Errno = 77      // file descriptor in bad state
	EREMCHG         Errno = 78      // remote address changed
	ELIBACC         Errno = 79      // can not access a needed shared library
	ELIBBAD         Errno = 80      // accessing a corrupted shared library
	ELIBSCN         Errno = 81      // .lib section in a.out corrupted
	ELIBMAX         Errno = 82      // attempting to link in too many shared libraries
	ELIBEXEC        Errno = 83      // cannot exec a shared library directly
	EILSEQ          Errno = 84      // invalid or incomplete multibyte or wide character
	ERESTART        Errno = 85      // interrupted system call should be restarted
	ESTRPIPE        Errno = 86      // streams pipe error
	EUSERS          Errno = 87      // too many users
	ENOTSOCK        Errno = 88      // socket operation on non-socket
	EDESTADDRREQ    Errno = 89      // destination address required
	EMSGSIZE        Errno = 90      // message too long
	EPROTOTYPE      Errno = 91      // protocol wrong type for socket
	ENOPROTOOPT     Errno = 92      // protocol not available
	EPROTONOSUPPORT Errno = 93      // protocol not supported
	ESOCKTNOSUPPORT Errno = 94      // socket type not supported
	EOPNOTSUPP      Errno = 95      // operation not supported
	EPFNOSUPPORT    Errno = 96      // protocol family not supported
	EAFNOSUPPORT    Errno = 97      // address family not supported by protocol
	EADDRINUSE      Errno = 98      // address already in use
	EADDRNOTAVAIL   Errno = 99      // cannot assign requested address
	ENETDOWN        Errno = 100     // network is down
	ENETUNREACH     Errno = 101     // network is unreachable
	ENETRESET       Errno = 102     // network dropped connection on reset
	ECONNABORTED    Errno = 103     // software caused connection abort
	ECONNRESET      Errno = 104     // connection reset by peer
	ENOBUFS         Errno = 105     // no buffer space available
	EISCONN         Errno = 106     // transport endpoint is already connected
	ENOTCONN        Errno = 107     // transport endpoint is not connected
	ESHUTDOWN       Errno = 108     // cannot send after transport endpoint shutdown
	ETOOMANYREFS    Errno = 109     // too many references: cannot splice
	ETIMEDOUT       Errno = 110     // connection timed out
	ECONNREFUSED    Errno = 111     // connection refused
	EHOSTDOWN       Errno = 112     // host is down
	EHOSTUNREACH    Errno = 113     // no route to host
	EALREADY        Errno = 114     // operation already in progress
	EINPROGRESS     Errno = 115     // operation now in progress
	ESTALE          Errno = 116     // stale file handle
	EUCLEAN         Errno = 117     // structure needs cleaning
	ENOTNAM         Errno = 118     // not a xenix named type file
	ENAVAIL         Errno = 119     // no xenix semaphores available
	EISNAM          Errno = 120     // is a named type file
	EREMOTEIO       Errno = 121     // remote i/o error
	EDQUOT          Errno = 122     // disk quota exceeded
	ENOMEDIUM       Errno = 123     // no medium found
	EMEDIUMTYPE     Errno = 124     // wrong medium type
	ECANCELED       Errno = 125     // operation canceled
	ENOKEY          Errno = 126     // required key not available
	EKEYEXPIRED     Errno = 127     // key has expired
	EKEYREVOKED     Errno = 128     // key has been revoked
	EKEYREJECTED    Errno = 129     // key was rejected by service
	EOWNERDEAD      Errno = 130     // owner died
	ENOTRECOVERABLE Errno = 131     // state not recoverable
	ERFKILL         Errno = 132     // operation not possible due to rf-kill
	EHWPOISON       Errno = 133     // memory page has hardware error
)

// errnoTable maps each Linux errno number to its C name and message.
var errnoTable = [...]struct{ name, msg string }{
	EPERM:           {"EPERM", "operation not permitted"},
	ENOENT:          {"ENOENT", "no such file or directory"},
	ESRCH:           {"ESRCH", "no such process"},
	EINTR:           {"EINTR", "interrupted system call"},
	EIO:             {"EIO", "input/output error"},
	ENXIO:           {"ENXIO", "no such device or address"},
	E2BIG:           {"E2BIG", "argument list too long"},
	ENOEXEC:         {"ENOEXEC", "exec format error"},
	EBADF:           {"EBADF", "bad file descriptor"},
	ECHILD:          {"ECHILD", "no child processes"},
	EAGAIN:          {"EAGAIN", "resource temporarily unavailable"},
	ENOMEM:          {"ENOMEM", "cannot allocate memory"},
	EACCES:          {"EACCES", "permission denied"},
	EFAULT:          {"EFAULT", "bad address"},
	ENOTBLK:         {"ENOTBLK", "block device required"},
	EBUSY:           {"EBUSY", "device or resource busy"},
	EEXIST:          {"EEXIST", "file exists"},
	EXDEV:           {"EXDEV", "invalid cross-device link"},
	ENODEV:          {"ENODEV", "no such device"},
	ENOTDIR:         {"ENOTDIR", "not a directory"},
	EISDIR:          {"EISDIR", "is a directory"},
	EINVAL:          {"EINVAL", "invalid argument"},
	ENFILE:          {"ENFILE", "too many open files in system"},
	EMFILE:          {"EMFILE", "too many open files"},
	ENOTTY:          {"ENOTTY", "inappropriate ioctl for device"},
	ETXTBSY:         {"ETXTBSY", "text file busy"},
	EFBIG:           {"EFBIG", "file too large"},
	ENOSPC:          {"ENOSPC", "no space left on device"},
	ESPIPE:          {"ESPIPE", "illegal seek"},
	EROFS:           {"EROFS", "read-only file system"},
	EMLINK:          {"EMLINK", "too many links"},
	EPIPE:           {"EPIPE", "broken pipe"},
	EDOM:            {"EDOM", "numerical argument out of domain"},
	ERANGE:          {"ERANGE", "numerical result out of range"},
	EDEADLK:         {"EDEADLK", "resource deadlock avoided"},
	ENAMETOOLONG:    {"ENAMETOOLONG", "file name too long"},
	ENOLCK:          {"ENOLCK", "no locks available"},
	ENOSYS:          {"ENOSYS", "function not implemented"},
	ENOTEMPTY:       {"ENOTEMPTY", "directory not empty"},
	ELOOP:           {"ELOOP", "too many levels of symbolic links"},
	ENOMSG:          {"ENOMSG", "no message of desired type"},
	EIDRM:           {"EIDRM", "identifier removed"},
	ECHRNG:          {"ECHRNG", "channel number out of range"},
	EL2NSYNC:        {"EL2NSYNC", "level 2 not synchronized"},
	EL3HLT:          {"EL3HLT", "level 3 halted"},
	EL3RST:          {"EL3RST", "level 3 reset"},
	ELNRNG:          {"ELNRNG", "link number out of range"},
	EUNATCH:         {"EUNATCH", "protocol driver not attached"},
	ENOCSI:          {"ENOCSI", "no CSI structure available"},
	EL2HLT:          {"EL2HLT", "level 2 halted"},
	EBADE:           {"EBADE", "invalid exchange"},
	EBADR:           {"EBADR", "invalid request descriptor"},
	EXFULL:          {"EXFULL", "exchange full"},
	ENOANO:          {"ENOANO", "no anode"},
	EBADRQC:         {"EBADRQC", "invalid request code"},
	EBADSLT:         {"EBADSLT", "invalid slot"},
	EBFONT:          {"EBFONT", "bad font file format"},
	ENOSTR:          {"ENOSTR", "device not a stream"},
	ENODATA:         {"ENODATA", "no data available"},
	ETIME:           {"ETIME", "timer expired"},
	ENOSR:           {"ENOSR", "out of streams resources"},
	ENONET:          {"ENONET", "machine is not on the network"},
	ENOPKG:          {"ENOPKG", "package not installed"},
	EREMOTE:         {"EREMOTE", "object is remote"},
	ENOLINK:         {"ENOLINK", "link has been severed"},
	EADV:            {"EADV", "advertise error"},
	ESRMNT:          {"ESRMNT", "srmount error"},
	ECOMM:           {"ECOMM", "communication error on send"},
	EPROTO:          {"EPROTO", "protocol error"},
	EMULTIHOP:       {"EMULTIHOP", "multihop attempted"},
	EDOTDOT:         {"EDOTDOT", "rFS specific error"},
	EBADMSG:         {"EBADMSG", "bad message"},
	EOVERFLOW:       {"EOVERFLOW", "value too large for defined data type"},
	ENOTUNIQ:        {"ENOTUNIQ", "name not unique on network"},
	EBADFD:          {"EBADFD", "file descriptor in bad state"},
	EREMCHG:         {"EREMCHG", "remote address changed"},
	ELIBACC:         {"ELIBACC", "can not access a needed shared library"},
	ELIBBAD:         {"ELIBBAD", "accessing a corrupted shared library"},
	ELIBSCN:         {"ELIBSCN", ".lib section in a.out corrupted"},
	ELIBMAX:         {"ELIBMAX", "attempting to link in too many shared libraries"},
	ELIBEXEC:        {"ELIBEXEC", "cannot exec a shared library directly"},
	EILSEQ:          {"EILSEQ", "invalid or incomplete multibyte or wide character"},
	ERESTART:        {"ERESTART", "interrupted system call should be restarted"},
	ESTRPIPE:        {"ESTRPIPE", "streams pipe error"},
	EUSERS:          {"EUSERS", "too many users"},
	ENOTSOCK:        {"ENOTSOCK", "socket operation on non-socket"},
	EDESTADDRREQ:    {"EDESTADDRREQ", "destination address required"},
	EMSGSIZE:        {"EMSGSIZE", "message too long"},
	EPROTOTYPE:      {"EPROTOTYPE", "protocol wrong type for socket"},
	ENOPROTOOPT:     {"ENOPROTOOPT", "protocol not available"},
	EPROTONOSUPPORT: {"EPROTONOSUPPORT", "protocol not supported"},
	ESOCKTNOSUPPORT: {"ESOCKTNOSUPPORT", "socket type not supported"},
	EOPNOTSUPP:      {"EOPNOTSUPP", "operation not supported"},
	EPFNOSUPPORT:    {"EPFNOSUPPORT", "protocol family not supported"},
	EAFNOSUPPORT:    {"EAFNOSUPPORT", "address family not supported by protocol"},
	EADDRINUSE:      {"EADDRINUSE", "address already in use"},
	EADDRNOTAVAIL:   {"EADDRNOTAVAIL", "cannot assign requested address"},
	ENETDOWN:        {"ENETDOWN", "network is down"},
	ENETUNREACH:     {"ENETUNREACH", "network is unreachable"},
	ENETRESET:       {"ENETRESET", "network dropped connection on reset"},
	ECONNABORTED:    {"ECONNABORTED", "software caused connection abort"},
	ECONNRESET:      {"ECONNRESET", "connection reset by peer"},
	ENOBUFS:         {"ENOBUFS", "no buffer space available"},
	EISCONN:         {"EISCONN", "transport endpoint is already connected"},
	ENOTCONN:        {"ENOTCONN", "transport endpoint is not connected"},
	ESHUTDOWN:       {"ESHUTDOWN", "cannot send after transport endpoint shutdown"},
	ETOOMANYREFS:    {"ETOOMANYREFS", "too many references: cannot splice"},
	ETIMEDOUT:       {"ETIMEDOUT", "connection timed out"},
	ECONNREFUSED:    {"ECONNREFUSED", "connection refused"},
	EHOSTDOWN:       {"EHOSTDOWN", "host is down"},
	EHOSTUNREACH:    {"EHOSTUNREACH", "no route to host"},
	EALREADY:        {"EALREADY", "operation already in progress"},
	EINPROGRESS:     {"EINPROGRESS", "operation now in progress"},
	ESTALE:          {"ESTALE", "stale file handle"},
	EUCLEAN:         {"EUCLEAN", "structure needs cleaning"},
	ENOTNAM:         {"ENOTNAM", "not a XENIX named type file"},
	ENAVAIL:         {"ENAVAIL", "no XENIX semaphores available"},
	EISNAM:          {"EISNAM", "is a named type file"},
	EREMOTEIO:       {"EREMOTEIO", "remote I/O error"},
	EDQUOT:          {"EDQUOT", "disk quota exceeded"},
	ENOMEDIUM:       {"ENOMEDIUM", "no medium found"},
	EMEDIUMTYPE:     {"EMEDIUMTYPE", "wrong medium type"},
	ECANCELED:       {"ECANCELED", "operation canceled"},
	ENOKEY:          {"ENOKEY", "required key not available"},
	EKEYEXPIRED:     {"EKEYEXPIRED", "key has expired"},
	EKEYREVOKED:     {"EKEYREVOKED", "key has been revoked"},
	EKEYREJECTED:    {"EKEYREJECTED", "key was rejected by service"},
	EOWNERDEAD:      {"EOWNERDEAD", "owner died"},
	ENOTRECOVERABLE: {"ENOTRECOVERABLE", "state not recoverable"},
	ERFKILL:         {"ERFKILL", "operation not possible due to RF-kill"},
	EHWPOISON:       {"EHWPOISON", "memory page has hardware error"},
}
