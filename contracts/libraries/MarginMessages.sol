// SPDX-License-Identifier: MIT
// Wire format v2 (docs/messages.md): the thirteen-word CREDIT/RELEASE/SEIZE message, its strict
// decoder and the message id. Every message names the contract it is for (target chain and
// address), and a SEIZE carries the market and price it was decided at, so that the receiving
// vault can check that price against its own chain's oracle. The TypeScript codec in
// relayer/messages must match it byte for byte.
pragma solidity ^0.8.22;

library MarginMessages {
    uint8 internal constant VERSION = 2;
    uint8 internal constant CREDIT = 1;
    uint8 internal constant RELEASE = 2;
    uint8 internal constant SEIZE = 3;

    /// @dev Thirteen static words of 32 bytes.
    uint256 internal constant ENCODED_LENGTH = 416;

    struct Message {
        uint8 version;
        uint8 kind;
        uint64 originChainId;
        address origin;
        uint64 nonce;
        address trader;
        uint256 positionId;
        address token;
        uint256 amount;
        /// @dev The EVM chain id and address of the contract the message is for: the engine for a
        /// CREDIT, the vault for a RELEASE or SEIZE. The receiver checks that it is itself.
        uint64 targetChainId;
        address target;
        /// @dev SEIZE only (zero otherwise): the market and the price (USD, 1e18) it was decided at.
        bytes32 market;
        uint256 price;
    }

    error BadMessageLength(uint256 length);
    error NonCanonicalWord(uint256 index);
    error UnsupportedVersion(uint8 version);
    error UnknownKind(uint8 kind);
    error ZeroAmount();
    error BadSeizeContext(uint8 kind);

    function encode(Message memory m) internal pure returns (bytes memory) {
        return abi.encode(
            m.version,
            m.kind,
            m.originChainId,
            m.origin,
            m.nonce,
            m.trader,
            m.positionId,
            m.token,
            m.amount,
            m.targetChainId,
            m.target,
            m.market,
            m.price
        );
    }

    /// @dev Reads every word as uint256 first so that dirty high bits are reported as our own
    /// error instead of the generic ABI decoder revert.
    function decode(bytes memory encoded) internal pure returns (Message memory m) {
        if (encoded.length != ENCODED_LENGTH) revert BadMessageLength(encoded.length);
        uint256[13] memory w = abi.decode(encoded, (uint256[13]));

        if (w[0] > type(uint8).max) revert NonCanonicalWord(0);
        if (w[1] > type(uint8).max) revert NonCanonicalWord(1);
        if (w[2] > type(uint64).max) revert NonCanonicalWord(2);
        if (w[3] > type(uint160).max) revert NonCanonicalWord(3);
        if (w[4] > type(uint64).max) revert NonCanonicalWord(4);
        if (w[5] > type(uint160).max) revert NonCanonicalWord(5);
        if (w[7] > type(uint160).max) revert NonCanonicalWord(7);
        if (w[9] > type(uint64).max) revert NonCanonicalWord(9);
        if (w[10] > type(uint160).max) revert NonCanonicalWord(10);

        if (w[0] != VERSION) revert UnsupportedVersion(uint8(w[0]));
        if (w[1] < CREDIT || w[1] > SEIZE) revert UnknownKind(uint8(w[1]));
        if (w[8] == 0) revert ZeroAmount();
        // A SEIZE names the market and a non-zero price; nothing else carries either.
        bool seize = w[1] == SEIZE;
        if (seize ? (w[11] == 0 || w[12] == 0) : (w[11] != 0 || w[12] != 0)) revert BadSeizeContext(uint8(w[1]));

        m = Message({
            version: uint8(w[0]),
            kind: uint8(w[1]),
            originChainId: uint64(w[2]),
            origin: address(uint160(w[3])),
            nonce: uint64(w[4]),
            trader: address(uint160(w[5])),
            positionId: w[6],
            token: address(uint160(w[7])),
            amount: w[8],
            targetChainId: uint64(w[9]),
            target: address(uint160(w[10])),
            market: bytes32(w[11]),
            price: w[12]
        });
    }

    /// @dev For a CREDIT this is the lockId. Receivers recompute it from the transport's
    /// authenticated origin; a sender never names it.
    function messageId(uint64 originChainId, address origin, uint64 nonce) internal pure returns (bytes32) {
        return keccak256(abi.encode(originChainId, origin, nonce));
    }
}
