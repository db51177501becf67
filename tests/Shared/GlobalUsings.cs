// Every test file of both xunit projects sees the shared helpers (TestNet, Pair, Bytes, FullListener).
global using SocketCmdlets.TestSupport;
