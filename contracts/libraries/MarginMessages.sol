// SPDX-License-Identifier: MIT
// Wire format v1 (docs/messages.md): the nine-word CREDIT/RELEASE/SEIZE message, its strict
// decoder and the message id. The TypeScript codec in relayer/messages must match it byte for byte.
pragma solidity ^0.8.22;

library MarginMessages {
    uint8 internal constant VERSION = 1;
    uint8 internal constant CREDIT = 1;
    uint8 internal constant RELEASE = 2;
    uint8 internal constant SEIZE = 3;

    /// @dev Nine static words of 32 bytes.
    uint256 internal constant ENCODED_LENGTH = 288;

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
    }

    error BadMessageLength(uint256 length);
    error NonCanonicalWord(uint256 index);
    error UnsupportedVersion(uint8 version);
    error UnknownKind(uint8 kind);
    error ZeroAmount();

    function encode(Message memory m) internal pure returns (bytes memory) {
        return abi.encode(
            m.version, m.kind, m.originChainId, m.origin, m.nonce, m.trader, m.positionId, m.token, m.amount
        );
    }

    /// @dev Reads every word as uint256 first so that dirty high bits are reported as our own
    /// error instead of the generic ABI decoder revert.
    function decode(bytes memory encoded) internal pure returns (Message memory m) {
        if (encoded.length != ENCODED_LENGTH) revert BadMessageLength(encoded.length);
        (
            uint256 version,
            uint256 kind,
            uint256 originChainId,
            uint256 origin,
            uint256 nonce,
            uint256 trader,
            uint256 positionId,
            uint256 token,
            uint256 amount
        ) = abi.decode(encoded, (uint256, uint256, uint256, uint256, uint256, uint256, uint256, uint256, uint256));

        if (version > type(uint8).max) revert NonCanonicalWord(0);
        if (kind > type(uint8).max) revert NonCanonicalWord(1);
        if (originChainId > type(uint64).max) revert NonCanonicalWord(2);
        if (origin > type(uint160).max) revert NonCanonicalWord(3);
        if (nonce > type(uint64).max) revert NonCanonicalWord(4);
        if (trader > type(uint160).max) revert NonCanonicalWord(5);
        if (token > type(uint160).max) revert NonCanonicalWord(7);

        if (version != VERSION) revert UnsupportedVersion(uint8(version));
        if (kind < CREDIT || kind > SEIZE) revert UnknownKind(uint8(kind));
        if (amount == 0) revert ZeroAmount();

        m = Message({
            version: uint8(version),
            kind: uint8(kind),
            originChainId: uint64(originChainId),
            origin: address(uint160(origin)),
            nonce: uint64(nonce),
            trader: address(uint160(trader)),
            positionId: positionId,
            token: address(uint160(token)),
            amount: amount
        });
    }

    /// @dev For a CREDIT this is the lockId. Receivers recompute it from the transport's
    /// authenticated origin; a sender never names it.
    function messageId(uint64 originChainId, address origin, uint64 nonce) internal pure returns (bytes32) {
        return keccak256(abi.encode(originChainId, origin, nonce));
    }
}
