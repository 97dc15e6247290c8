/*
 * ns_imports.h — imports of the lunatic namespaces beyond message/process/error/version:
 * lunatic::distributed, lunatic::registry, lunatic::timer and the lunatic::wasi config calls,
 * with lunatic's names and WebAssembly types of November 2022 (lunatic-rs 0.12).
 *
 * Include after luna_guest.h (it uses lunatic.h's types and LUNATIC_IMPORT).
 */
#ifndef NS_IMPORTS_H
#define NS_IMPORTS_H

#include "lunatic.h"

/* ---- lunatic::distributed -------------------------------------------------------------- */

LUNATIC_IMPORT("lunatic::distributed", "nodes_count")
lunatic_u32 lunatic_distributed_nodes_count(void);
LUNATIC_IMPORT("lunatic::distributed", "get_nodes")
lunatic_u32 lunatic_distributed_get_nodes(lunatic_u64 *nodes, lunatic_u32 nodes_len);
LUNATIC_IMPORT("lunatic::distributed", "node_id")
lunatic_u64 lunatic_distributed_node_id(void);
LUNATIC_IMPORT("lunatic::distributed", "module_id")
lunatic_u64 lunatic_distributed_module_id(void);
LUNATIC_IMPORT("lunatic::distributed", "send")
lunatic_u32 lunatic_distributed_send(lunatic_u64 node_id, lunatic_u64 process_id);
LUNATIC_IMPORT("lunatic::distributed", "send_receive_skip_search")
lunatic_u32 lunatic_distributed_send_receive_skip_search(lunatic_u64 node_id, lunatic_u64 process_id,
                                                         lunatic_u64 timeout);
LUNATIC_IMPORT("lunatic::distributed", "spawn")
lunatic_u32 lunatic_distributed_spawn(lunatic_u64 node_id, lunatic_i64 config_id, lunatic_u64 module_id,
                                      const char *func, lunatic_u32 func_len, const lunatic_u8 *params,
                                      lunatic_u32 params_len, lunatic_u64 *id);

/* ---- lunatic::registry ----------------------------------------------------------------- */

LUNATIC_IMPORT("lunatic::registry", "put")
void lunatic_registry_put(const char *name, lunatic_u32 name_len, lunatic_u64 node_id, lunatic_u64 process_id);
LUNATIC_IMPORT("lunatic::registry", "get")
lunatic_u32 lunatic_registry_get(const char *name, lunatic_u32 name_len, lunatic_u64 *node_id,
                                 lunatic_u64 *process_id);
LUNATIC_IMPORT("lunatic::registry", "remove")
void lunatic_registry_remove(const char *name, lunatic_u32 name_len);

/* ---- lunatic::timer -------------------------------------------------------------------- */

LUNATIC_IMPORT("lunatic::timer", "send_after")
lunatic_u64 lunatic_timer_send_after(lunatic_u64 process_id, lunatic_u64 delay_ms);
LUNATIC_IMPORT("lunatic::timer", "cancel_timer")
lunatic_u32 lunatic_timer_cancel_timer(lunatic_u64 timer_id);

/* ---- lunatic::wasi (config calls) ------------------------------------------------------ */

LUNATIC_IMPORT("lunatic::wasi", "config_add_environment_variable")
void lunatic_wasi_config_add_environment_variable(lunatic_u64 config_id, const char *key, lunatic_u32 key_len,
                                                  const char *value, lunatic_u32 value_len);
LUNATIC_IMPORT("lunatic::wasi", "config_add_command_line_argument")
void lunatic_wasi_config_add_command_line_argument(lunatic_u64 config_id, const char *arg, lunatic_u32 arg_len);
LUNATIC_IMPORT("lunatic::wasi", "config_preopen_dir")
void lunatic_wasi_config_preopen_dir(lunatic_u64 config_id, const char *dir, lunatic_u32 dir_len);

/* ---- lunatic::process config calls used with these -------------------------------------- */

LUNATIC_IMPORT("lunatic::process", "config_set_can_spawn_processes")
void lunatic_config_set_can_spawn_processes(lunatic_u64 config_id, lunatic_u32 can);
LUNATIC_IMPORT("lunatic::process", "config_can_spawn_processes")
lunatic_u32 lunatic_config_can_spawn_processes(lunatic_u64 config_id);

#endif /* NS_IMPORTS_H */
