%% The Erlang/OTP counterparts of luna-bench's P5 workloads (docs/BENCHMARKS.md), run by
%% `luna-bench all` in the same run as Luna's own, interleaved, with `erl +S 1` (one scheduler).
%% luna-bench compiles this file with erlc into a temporary directory and runs
%%   erl +S 1 -noshell -pa DIR -eval 'luna_bench:main([Workload, Count]), halt().'
%% Each workload prints one line "luna_bench WORKLOAD FIGURE" that luna-bench reads.
%%
%% The messages mirror Luna's: an 8-byte binary per message (Luna's create_data + write_data of
%% 8 bytes), the receiver takes each one from its mailbox and reads its value. The `_int`
%% variants send a small integer instead (no allocation per message: Erlang's cheapest message),
%% so a comparison can be made against Erlang at its best too.
-module(luna_bench).
-export([main/1]).

main([Workload, Count]) ->
    N = list_to_integer(Count),
    Figure = case Workload of
        "one_way" -> one_way(N, binary);
        "one_way_int" -> one_way(N, integer);
        "ping_pong" -> ping_pong(N, binary);
        "ping_pong_int" -> ping_pong(N, integer);
        "spawn" -> spawn_rate(N);
        "idle_memory" -> idle_memory(N)
    end,
    io:format("luna_bench ~s ~.3f~n", [Workload, float(Figure)]).

%% One sender sends N 8-byte messages to one receiver; messages per second, from the first
%% send until the receiver has taken the last one.
one_way(N, Kind) ->
    Parent = self(),
    Receiver = spawn(fun() -> receive_n(Kind, N, 0), Parent ! {done, self()} end),
    T0 = erlang:monotonic_time(nanosecond),
    spawn(fun() -> send_n(Kind, Receiver, 0, N) end),
    receive {done, Receiver} -> ok end,
    N / seconds_since(T0).

send_n(_, _, N, N) -> ok;
send_n(binary, To, I, N) -> To ! <<I:64>>, send_n(binary, To, I + 1, N);
send_n(integer, To, I, N) -> To ! I, send_n(integer, To, I + 1, N).

receive_n(_, 0, Sum) -> Sum;
receive_n(binary, K, Sum) -> receive <<V:64>> -> receive_n(binary, K - 1, Sum + V) end;
receive_n(integer, K, Sum) -> receive V when is_integer(V) -> receive_n(integer, K - 1, Sum + V) end.

%% A client sends N requests to a server and waits for each reply (the value plus one);
%% round trips per second.
ping_pong(N, Kind) ->
    Server = spawn(fun() -> pong(Kind) end),
    T0 = erlang:monotonic_time(nanosecond),
    ping(Kind, Server, 0, N),
    Rate = N / seconds_since(T0),
    exit(Server, kill),
    Rate.

ping(_, _, _, 0) -> ok;
ping(binary, Server, V, K) ->
    Server ! {self(), <<V:64>>},
    receive <<R:64>> -> ping(binary, Server, R, K - 1) end;
ping(integer, Server, V, K) ->
    Server ! {self(), V},
    receive R when is_integer(R) -> ping(integer, Server, R, K - 1) end.

pong(binary) ->
    receive {From, <<V:64>>} -> From ! <<(V + 1):64>>, pong(binary) end;
pong(integer) ->
    receive {From, V} -> From ! V + 1, pong(integer) end.

%% A parent spawns N children that return at once; processes per second until all have ended.
spawn_rate(N) ->
    T0 = erlang:monotonic_time(nanosecond),
    Pids = [spawn_monitor(fun() -> ok end) || _ <- lists:seq(1, N)],
    [receive {'DOWN', Ref, process, Pid, _} -> ok end || {Pid, Ref} <- Pids],
    N / seconds_since(T0).

%% Bytes per process of N processes blocked in receive (erlang:memory(processes) before and after).
idle_memory(N) ->
    Before = erlang:memory(processes),
    Pids = [spawn(fun() -> receive stop -> ok end end) || _ <- lists:seq(1, N)],
    wait_blocked(Pids),
    After = erlang:memory(processes),
    [P ! stop || P <- Pids],
    (After - Before) / N.

wait_blocked(Pids) ->
    case lists:all(fun(P) -> erlang:process_info(P, status) =:= {status, waiting} end, Pids) of
        true -> ok;
        false -> timer:sleep(10), wait_blocked(Pids)
    end.

seconds_since(T0) -> (erlang:monotonic_time(nanosecond) - T0) / 1.0e9.
