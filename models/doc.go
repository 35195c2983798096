// Package models holds the gotch layers and the recursive cores (hrm, trm,
// ut, transformer), one file per core, and their parameter and FLOP counts.
package models
