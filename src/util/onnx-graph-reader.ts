/**
 * A minimal reader for ONNX model files (protobuf): the graph's nodes (op type, inputs, outputs) and
 * its float32 initializers. Enough to recognise a small graph and evaluate it without onnxruntime
 * (see the linear fast path in src/safety/detectors/onnx-text-classifier.ts); anything it does not
 * understand makes it return null, and the caller keeps using onnxruntime.
 *
 * Field numbers from onnx.proto3: ModelProto.graph = 7; GraphProto.node = 1, initializer = 5;
 * NodeProto.input = 1, output = 2, op_type = 4; TensorProto.dims = 1, data_type = 2 (1 = FLOAT),
 * float_data = 4, name = 8, raw_data = 9.
 */

export interface OnnxNodeInfo {
  opType: string;
  inputs: string[];
  outputs: string[];
}

export interface OnnxFloatTensor {
  dims: number[];
  data: Float32Array;
}

export interface OnnxGraphInfo {
  nodes: OnnxNodeInfo[];
  /** Float32 initializers by name (others are left out). */
  initializers: Map<string, OnnxFloatTensor>;
}

class Reader {
  offset = 0;
  constructor(readonly bytes: Uint8Array, readonly end = bytes.length) {}

  done(): boolean {
    return this.offset >= this.end;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.offset >= this.end) throw new Error('truncated varint');
      const byte = this.bytes[this.offset++];
      // Values above 2^53 do not occur in the fields read here (sizes, dims, enums).
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new Error('varint too long');
    }
  }

  /** A length-delimited field's bytes as a sub-reader. */
  sub(): Reader {
    const length = this.varint();
    const start = this.offset;
    if (start + length > this.end) throw new Error('truncated field');
    this.offset += length;
    const reader = new Reader(this.bytes, start + length);
    reader.offset = start;
    return reader;
  }

  string(): string {
    const sub = this.sub();
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + sub.offset, sub.end - sub.offset).toString('utf8');
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.offset += 8;
    else if (wireType === 2) this.sub();
    else if (wireType === 5) this.offset += 4;
    else throw new Error(`unsupported wire type ${wireType}`);
    if (this.offset > this.end) throw new Error('truncated field');
  }
}

function readNode(reader: Reader): OnnxNodeInfo {
  const node: OnnxNodeInfo = { opType: '', inputs: [], outputs: [] };
  while (!reader.done()) {
    const key = reader.varint();
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (field === 1 && wireType === 2) node.inputs.push(reader.string());
    else if (field === 2 && wireType === 2) node.outputs.push(reader.string());
    else if (field === 4 && wireType === 2) node.opType = reader.string();
    else reader.skip(wireType);
  }
  return node;
}

function readTensor(reader: Reader): { name: string; tensor?: OnnxFloatTensor } {
  let name = '';
  const dims: number[] = [];
  let dataType = 0;
  let raw: Reader | undefined;
  const floats: number[] = [];
  while (!reader.done()) {
    const key = reader.varint();
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (field === 1 && wireType === 0) dims.push(reader.varint());
    else if (field === 1 && wireType === 2) {
      const packed = reader.sub();
      while (!packed.done()) dims.push(packed.varint());
    } else if (field === 2 && wireType === 0) dataType = reader.varint();
    else if (field === 8 && wireType === 2) name = reader.string();
    else if (field === 9 && wireType === 2) raw = reader.sub();
    else if (field === 4 && wireType === 2) {
      const packed = reader.sub();
      const view = new DataView(packed.bytes.buffer, packed.bytes.byteOffset);
      for (let at = packed.offset; at + 4 <= packed.end; at += 4) floats.push(view.getFloat32(at, true));
    } else reader.skip(wireType);
  }
  if (dataType !== 1) return { name };
  const count = dims.reduce((product, dim) => product * dim, 1);
  let data: Float32Array;
  if (raw) {
    if (raw.end - raw.offset !== count * 4) return { name };
    // Copy: the file buffer's offset need not be 4-byte aligned.
    data = new Float32Array(count);
    const view = new DataView(raw.bytes.buffer, raw.bytes.byteOffset);
    for (let index = 0; index < count; index++) data[index] = view.getFloat32(raw.offset + index * 4, true);
  } else {
    if (floats.length !== count) return { name };
    data = Float32Array.from(floats);
  }
  return { name, tensor: { dims, data } };
}

/** Reads the graph of an ONNX file's bytes; null when the bytes are not a model this reader understands. */
export function readOnnxGraph(bytes: Uint8Array): OnnxGraphInfo | null {
  try {
    const model = new Reader(bytes);
    let graph: Reader | undefined;
    while (!model.done()) {
      const key = model.varint();
      if (Math.floor(key / 8) === 7 && (key & 7) === 2) graph = model.sub();
      else model.skip(key & 7);
    }
    if (!graph) return null;
    const info: OnnxGraphInfo = { nodes: [], initializers: new Map() };
    while (!graph.done()) {
      const key = graph.varint();
      const field = Math.floor(key / 8);
      const wireType = key & 7;
      if (field === 1 && wireType === 2) info.nodes.push(readNode(graph.sub()));
      else if (field === 5 && wireType === 2) {
        const { name, tensor } = readTensor(graph.sub());
        if (tensor) info.initializers.set(name, tensor);
      } else graph.skip(wireType);
    }
    return info;
  } catch {
    return null;
  }
}
