import {
  getNamedType,
  isCompositeType,
  isListType,
  isNonNullType,
  Kind,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { COST_WEIGHTS, type CostAnnotations } from './cost-model';

/** What an operation would cost to run: how deep it nests and how much work it may cause. */
export interface OperationMeasure {
  /** The deepest field, root fields being 1 (introspection fields not counted). */
  depth: number;
  /** Estimated cost (gateway/README.md, "Cost model"); Infinity past what a number can hold. */
  cost: number;
}

export interface CostAnalyzerOptions {
  schema: GraphQLSchema;
  annotations: CostAnnotations;
  /** Items assumed for a list field without `@listSize`. */
  defaultListSize: number;
}

interface SelectionMeasure {
  cost: number;
  /** Depth below the selection set's parent field. */
  depth: number;
}

/** Introspection is answered by the gateway itself; it has its own switch (introspection.ts). */
const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);

/**
 * Measures depth and cost of an operation against the API schema. Every selection counts where it
 * appears: aliases of one field count once each, a fragment counts at every spread, and a list
 * multiplies what is selected in it by its size. Results that do not depend on variables are
 * cached per operation (the document itself is cached per query text, so this is once per document).
 */
export class CostAnalyzer {
  private readonly cache = new WeakMap<OperationDefinitionNode, OperationMeasure>();

  constructor(private readonly options: CostAnalyzerOptions) {}

  measure(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined): OperationMeasure {
    const cached = this.cache.get(operation);
    if (cached) return cached;
    const run = new Measurement(this.options, document, operation, variables ?? {});
    const measure = run.operation();
    if (!run.usedVariables) this.cache.set(operation, measure);
    return measure;
  }
}

/** One measurement: fragments are measured once each (memoized), so fragment bombs stay linear. */
class Measurement {
  usedVariables = false;
  private readonly fragments = new Map<string, FragmentDefinitionNode>();
  private readonly fragmentMeasures = new Map<string, SelectionMeasure>();
  private readonly visiting = new Set<string>();

  constructor(
    private readonly options: CostAnalyzerOptions,
    document: DocumentNode,
    private readonly op: OperationDefinitionNode,
    private readonly variables: Record<string, unknown>,
  ) {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) this.fragments.set(definition.name.value, definition);
    }
  }

  operation(): OperationMeasure {
    const root = this.options.schema.getRootType(this.op.operation);
    if (!root) return { depth: 0, cost: 0 };
    return this.selectionSet(root, this.op.selectionSet, true);
  }

  private selectionSet(parent: GraphQLCompositeType, selectionSet: SelectionSetNode, atRoot: boolean): SelectionMeasure {
    let cost = 0;
    let depth = 0;
    for (const selection of selectionSet.selections) {
      let measured: SelectionMeasure;
      if (selection.kind === Kind.FIELD) {
        measured = this.field(parent, selection, atRoot);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const typeName = selection.typeCondition?.name.value;
        const type = typeName ? this.options.schema.getType(typeName) : parent;
        if (!type || !isCompositeType(type)) continue;
        measured = this.selectionSet(type, selection.selectionSet, atRoot);
      } else {
        measured = this.fragment(selection.name.value, atRoot);
      }
      // Fragments on different types of an interface or union add up: an upper bound.
      cost += measured.cost;
      depth = Math.max(depth, measured.depth);
    }
    return { cost, depth };
  }

  private fragment(name: string, atRoot: boolean): SelectionMeasure {
    // Root fields weigh more, so a fragment spread at the root is measured apart from a nested one.
    const memoKey = `${atRoot ? 'root' : 'nested'}:${name}`;
    const known = this.fragmentMeasures.get(memoKey);
    if (known) return known;
    const definition = this.fragments.get(name);
    // Validation rejects unknown and cyclic fragments; this only keeps a bad input from looping.
    if (!definition || this.visiting.has(name)) return { cost: 0, depth: 0 };
    const type = this.options.schema.getType(definition.typeCondition.name.value);
    if (!type || !isCompositeType(type)) return { cost: 0, depth: 0 };
    this.visiting.add(name);
    const measured = this.selectionSet(type, definition.selectionSet, atRoot);
    this.visiting.delete(name);
    this.fragmentMeasures.set(memoKey, measured);
    return measured;
  }

  private field(parent: GraphQLCompositeType, node: FieldNode, atRoot: boolean): SelectionMeasure {
    const name = node.name.value;
    if (name === '__typename') return { cost: 0, depth: 1 };
    if (atRoot && INTROSPECTION_ROOTS.has(name)) return { cost: 0, depth: 0 };
    if (!('getFields' in parent)) return { cost: 0, depth: 1 };
    const definition = parent.getFields()[name];
    if (!definition) return { cost: 0, depth: 1 };

    const named = getNamedType(definition.type);
    const composite = isCompositeType(named);
    const weight =
      this.options.annotations.fieldWeight(parent.name, name) ??
      this.options.annotations.typeWeight(named.name) ??
      this.defaultWeight(composite, atRoot);
    const children = composite && node.selectionSet ? this.selectionSet(named, node.selectionSet, false) : { cost: 0, depth: 0 };
    const items = this.listMultiplier(definition.type, parent.name, node);
    return { cost: items * (weight + children.cost), depth: 1 + children.depth };
  }

  private defaultWeight(composite: boolean, atRoot: boolean): number {
    if (atRoot && this.op.operation === 'mutation') return COST_WEIGHTS.mutationRoot;
    if (atRoot && this.op.operation === 'subscription') return COST_WEIGHTS.subscriptionRoot;
    if (atRoot) return Math.max(COST_WEIGHTS.queryRoot, composite ? COST_WEIGHTS.object : COST_WEIGHTS.leaf);
    return composite ? COST_WEIGHTS.object : COST_WEIGHTS.leaf;
  }

  /** The product of the sizes of the lists the field's type is wrapped in (1 when it is not a list). */
  private listMultiplier(type: GraphQLOutputType, parentName: string, node: FieldNode): number {
    let lists = 0;
    for (let t: GraphQLOutputType = type; isListType(t) || isNonNullType(t); t = t.ofType as GraphQLOutputType) if (isListType(t)) lists++;
    if (lists === 0) return 1;
    return this.listSize(parentName, node) ** lists;
  }

  private listSize(parentName: string, node: FieldNode): number {
    const rule = this.options.annotations.listSize(parentName, node.name.value);
    if (!rule) return this.options.defaultListSize;
    let sliced: number | null = null;
    for (const argumentName of rule.slicingArguments) {
      const value = this.argumentValue(node, argumentName);
      if (value !== null) sliced = Math.max(sliced ?? 0, value);
    }
    return Math.max(0, sliced ?? rule.assumedSize ?? this.options.defaultListSize);
  }

  /** An Int argument's value: a literal, or a variable (then the result depends on variables). */
  private argumentValue(node: FieldNode, argumentName: string): number | null {
    const argument = node.arguments?.find((a) => a.name.value === argumentName);
    if (!argument) return null;
    if (argument.value.kind !== Kind.VARIABLE) {
      const value: unknown = valueFromASTUntyped(argument.value);
      return typeof value === 'number' ? value : null;
    }
    this.usedVariables = true;
    const variable = argument.value.name.value;
    const given = this.variables[variable];
    if (typeof given === 'number') return given;
    if (given !== undefined) return null;
    const defaultValue = this.op.variableDefinitions?.find((d) => d.variable.name.value === variable)?.defaultValue;
    const value: unknown = defaultValue ? valueFromASTUntyped(defaultValue) : null;
    return typeof value === 'number' ? value : null;
  }
}
