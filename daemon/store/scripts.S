/*
 * scripts.S: the Lua scripts of daemon/store/, embedded at build time.
 *
 * Each symbol is lib.lua (the shared head: key names, the delivery indexes)
 * followed by one script, and a NUL, so C sees a plain string. Paths are
 * from the top of the tree, where make runs; the Makefile rebuilds this
 * object when a .lua file changes. Only store.c refers to these symbols.
 */
	.section .rodata

	.global store_lua_fetch
	.type store_lua_fetch, %object
store_lua_fetch:
	.incbin "daemon/store/lib.lua"
	.incbin "daemon/store/fetch.lua"
	.byte 0
	.size store_lua_fetch, . - store_lua_fetch

	.global store_lua_commit
	.type store_lua_commit, %object
store_lua_commit:
	.incbin "daemon/store/lib.lua"
	.incbin "daemon/store/match.lua"
	.incbin "daemon/store/forget.lua"
	.incbin "daemon/store/commit.lua"
	.byte 0
	.size store_lua_commit, . - store_lua_commit

	.global store_lua_lease
	.type store_lua_lease, %object
store_lua_lease:
	.incbin "daemon/store/lib.lua"
	.incbin "daemon/store/gate.lua"
	.incbin "daemon/store/lease.lua"
	.byte 0
	.size store_lua_lease, . - store_lua_lease

	.global store_lua_digest
	.type store_lua_digest, %object
store_lua_digest:
	.incbin "daemon/store/lib.lua"
	.incbin "daemon/store/digest.lua"
	.byte 0
	.size store_lua_digest, . - store_lua_digest

	.global store_lua_trim
	.type store_lua_trim, %object
store_lua_trim:
	.incbin "daemon/store/lib.lua"
	.incbin "daemon/store/trim.lua"
	.byte 0
	.size store_lua_trim, . - store_lua_trim
	.global store_lua_gauges
	.type store_lua_gauges, %object
store_lua_gauges:
	.incbin "daemon/store/lib.lua"
	.incbin "daemon/store/gauges.lua"
	.byte 0
	.size store_lua_gauges, . - store_lua_gauges

	.global store_lua_enqueue
	.type store_lua_enqueue, %object
store_lua_enqueue:
	.incbin "daemon/store/lib.lua"
	.incbin "daemon/store/enqueue.lua"
	.byte 0
	.size store_lua_enqueue, . - store_lua_enqueue

	.global store_lua_retry
	.type store_lua_retry, %object
store_lua_retry:
	.incbin "daemon/store/lib.lua"
	.incbin "daemon/store/retry.lua"
	.byte 0
	.size store_lua_retry, . - store_lua_retry

	.global store_lua_page
	.type store_lua_page, %object
store_lua_page:
	.incbin "daemon/store/lib.lua"
	.incbin "daemon/store/page.lua"
	.byte 0
	.size store_lua_page, . - store_lua_page

	.global store_lua_answer
	.type store_lua_answer, %object
store_lua_answer:
	.incbin "daemon/store/lib.lua"
	.incbin "daemon/store/gate.lua"
	.incbin "daemon/store/answer.lua"
	.byte 0
	.size store_lua_answer, . - store_lua_answer

	.global store_lua_scrub
	.type store_lua_scrub, %object
store_lua_scrub:
	.incbin "daemon/store/lib.lua"
	.incbin "daemon/store/match.lua"
	.incbin "daemon/store/forget.lua"
	.incbin "daemon/store/scrub.lua"
	.byte 0
	.size store_lua_scrub, . - store_lua_scrub

	/* The matcher alone, for tests/fuzz/fuzz_scrub.c. */
	.global store_lua_match
	.type store_lua_match, %object
store_lua_match:
	.incbin "daemon/store/match.lua"
	.byte 0
	.size store_lua_match, . - store_lua_match

	.section .note.GNU-stack,"",%progbits
