/*
 * version.h: the one place the version is written. hearbackd and hearback
 * print it for --version; the man pages do not repeat it.
 */
#ifndef HB_VERSION_H
#define HB_VERSION_H

#define HB_VERSION	"0.9.0"

#endif
